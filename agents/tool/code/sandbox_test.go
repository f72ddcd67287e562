package code

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestEverySandboxIsolates runs a probe of the network, the process tree
// and the user in each way of sandboxing this machine allows, not only the
// first, which is the one runs use.
func TestEverySandboxIsolates(t *testing.T) {
	t.Parallel()
	e := New(Config{AllowSameUser: true}, nil)
	pythons, err := e.pythons(t.Context())
	if errors.Is(err, errNoPython) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	const check = `import os, socket
print("interfaces", [n for _, n in socket.if_nameindex()])
print("uid", os.getuid(), os.getgid())
print("pid", os.getpid())
try:
    socket.create_connection(("127.0.0.1", 9), timeout=2)
except OSError as e:
    print("connect", e.errno)
`
	worked := 0
	for _, box := range sandboxes() {
		t.Run(box.name, func(t *testing.T) {
			var out outcome
			var runErr error
			for _, py := range pythons {
				s, err := newScratch(e.cfg.Dir, box, check)
				if err != nil {
					t.Fatal(err)
				}
				out, runErr = e.run(t.Context(), plan{python: py, box: box}, s)
				s.remove()
				if runErr == nil {
					break
				}
			}
			if runErr != nil {
				t.Skipf("not allowed here: %v", runErr)
			}
			worked++
			got := out.stdout.text(e.cfg.OutputBytes)
			want := []string{"interfaces ['lo']", "uid " + strconv.Itoa(box.uid) + " " + strconv.Itoa(box.gid), "connect 101"}
			if box.pidNS() {
				want = append(want, "pid 1\n")
			}
			for _, w := range want {
				if !strings.Contains(got, w) {
					t.Errorf("the output lacks %q:\n%s%s", w, got, out.stderr.text(1000))
				}
			}
		})
	}
	if worked == 0 {
		t.Fatal("no sandbox works on this machine")
	}
}

func TestCaptureKeepsTheStartAndTheEnd(t *testing.T) {
	t.Parallel()
	flooded := make(chan struct{})
	c, out, errs := newCapture(100, func() { close(flooded) })
	for i := range 1000 {
		out.Write([]byte(strconv.Itoa(i % 10)))
	}
	errs.Write([]byte("é"[:1])) // a character cut in two shows as U+FFFD
	outShare, errShare := c.shares(out, errs)
	if outShare != 99 || errShare != 1 {
		t.Fatalf("shares %d, %d", outShare, errShare)
	}
	got := out.text(outShare)
	if !strings.HasPrefix(got, "0123456789") || !strings.HasSuffix(got, "56789") || !strings.Contains(got, "bytes of output cut here") {
		t.Errorf("stdout shown as %q", got)
	}
	if got := errs.text(errShare); got != "\uFFFD" {
		t.Errorf("stderr shown as %q", got)
	}
	rest := make([]byte, floodBytes-1001) // the limit, with the 1001 bytes above
	for len(rest) > 0 {
		n := min(len(rest), 1<<20)
		out.Write(rest[:n])
		rest = rest[n:]
	}
	if c.wasFlooded() {
		t.Fatal("flooded at exactly the limit")
	}
	out.Write([]byte("x"))
	<-flooded
	if !c.wasFlooded() || len(out.head) != 100 || len(out.tail) != tailBytes {
		t.Fatalf("after a flood: flooded %v, head %d, tail %d bytes", c.wasFlooded(), len(out.head), len(out.tail))
	}
}
