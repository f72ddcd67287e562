package bedrock

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"

	"github.com/atrium-hq/atrium/agents"
)

// modelError wraps what the SDK returned: an AWS API error becomes a
// *agents.ModelError; anything else (a dropped connection, a bad frame) is
// not the upstream saying why and only gets the provider's name.
func (p *Provider) modelError(err error) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	me := &agents.ModelError{Provider: p.name, Code: api.ErrorCode(), Message: api.ErrorMessage(), Err: err}
	// The SDK's response errors know the HTTP status; an exception inside
	// the event stream arrived on a 200 response and has none.
	var resp interface{ HTTPStatusCode() int }
	if errors.As(err, &resp) {
		me.Status = resp.HTTPStatusCode()
	} else {
		me.Status = streamStatus(me.Code)
	}
	return me
}

// streamStatus is the HTTP status AWS documents for each exception that
// ConverseStream can deliver inside the stream, so that a throttle is a 429
// whether it came before the stream or in it.
func streamStatus(code string) int {
	switch code {
	case "ValidationException":
		return 400
	case "ModelStreamErrorException":
		return 424
	case "ThrottlingException":
		return 429
	case "InternalServerException":
		return 500
	case "ServiceUnavailableException":
		return 503
	}
	return 0
}
