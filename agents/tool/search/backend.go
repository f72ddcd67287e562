package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// result is one search result as a backend gives it; format cleans it.
type result struct {
	title, url, snippet string
}

// backend is a search service.
type backend interface {
	// name names the service to the model and in errors.
	name() string
	// search returns up to n results for query.
	search(ctx context.Context, client *http.Client, query string, n int) ([]result, error)
}

// maxAnswerBytes caps a backend's answer; a page of ten results is far
// smaller.
const maxAnswerBytes = 4 << 20

// call sends req and decodes its JSON answer into v. A status other than
// 2xx becomes an error worded for the model; setting is the environment
// variable to blame for a refused key.
func call(client *http.Client, req *http.Request, service, setting string, v any) error {
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			if ue.Timeout() {
				return fmt.Errorf("%s took too long to answer", service)
			}
			err = ue.Err
		}
		return fmt.Errorf("could not reach %s: %w", service, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return fmt.Errorf("reading %s's answer: %w", service, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(resp, body, service, setting)
	}
	if len(body) > maxAnswerBytes {
		return fmt.Errorf("%s's answer is larger than %d MB", service, maxAnswerBytes>>20)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s's answer is not the JSON expected: %v", service, err)
	}
	return nil
}

// statusError words a refusal: the key for 401 and 403, a wait for 429 and
// 5xx, the service's own message otherwise.
func statusError(resp *http.Response, body []byte, service, setting string) error {
	status := strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		if setting == EnvSearXNGURL {
			return fmt.Errorf("%s refused the search (%s): its JSON format may be off; "+
				"the operator must add json to search.formats in its settings.yml", service, status)
		}
		return fmt.Errorf("%s refused the API key (%s): the operator must check %s", service, status, setting)
	case code == http.StatusTooManyRequests:
		return fmt.Errorf("%s is rate limiting the searches, or its quota is used up (%s); try again later", service, status)
	case code >= 500:
		return fmt.Errorf("%s failed (%s); try again later", service, status)
	}
	if detail := errorDetail(body); detail != "" {
		return fmt.Errorf("%s answered %s: %s", service, status, detail)
	}
	return fmt.Errorf("%s answered %s", service, status)
}

// errorDetail is the message of a JSON error body, in the shapes the
// backends use, cut short; "" when there is none.
func errorDetail(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Detail  json.RawMessage `json:"detail"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := e.Message
	for _, raw := range []json.RawMessage{e.Error, e.Detail} {
		if msg != "" || len(raw) == 0 {
			continue
		}
		var s string
		var obj struct {
			Error  string `json:"error"`
			Detail string `json:"detail"`
		}
		switch {
		case json.Unmarshal(raw, &s) == nil:
			msg = s
		case json.Unmarshal(raw, &obj) == nil:
			msg = obj.Detail + obj.Error
		}
	}
	return clean(msg, 300)
}
