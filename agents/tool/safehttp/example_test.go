package safehttp_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

func Example() {
	// At start-up: a bad entry stops the server rather than being ignored.
	allow, err := safehttp.ParseAllowList(os.Getenv(safehttp.AllowHostsEnv))
	if err != nil {
		log.Fatal(err)
	}
	client := safehttp.New(safehttp.Config{Allow: allow})

	// In a tool: internal addresses fail with an error matching ErrBlocked.
	resp, err := client.Get(context.Background(), "https://example.com/")
	if err != nil {
		log.Print(err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // fails with ErrBodyTooLarge past 5 MiB
	fmt.Println(len(body), err)
}
