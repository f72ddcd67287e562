package generate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
)

// toolError is an error worded for the model, with the SDK's error (which
// repeats the operation, status and request id) kept as its cause.
type toolError struct {
	msg string
	err error
}

func (e *toolError) Error() string { return e.msg }
func (e *toolError) Unwrap() error { return e.err }

func wordedf(err error, format string, args ...any) error {
	return &toolError{msg: fmt.Sprintf(format, args...), err: err}
}

// bedrockError words a failed Bedrock call for the model: what went wrong
// and what would fix it. what names the call, like "the image request".
func (s *service) bedrockError(err error, what, model string) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return s.transportError(err, "AWS Bedrock")
	}
	code, msg := api.ErrorCode(), strings.TrimSpace(api.ErrorMessage())
	switch code {
	case "ValidationException":
		if contentFiltered(msg) {
			return wordedf(err, "Bedrock's content filters blocked %s (%s). Nothing was generated: "+
				"rephrase the prompt without what may have triggered them and try again", what, msg)
		}
		return wordedf(err, "Bedrock rejected %s for %s: %s", what, model, msg)
	case "AccessDeniedException":
		return wordedf(err, "AWS refused access to the model %s in region %s (%s). The operator must enable the model "+
			"in the Bedrock console (Model access) and allow the server's AWS credentials to use it", model, s.regionName(), msg)
	case "ThrottlingException", "ServiceQuotaExceededException", "TooManyRequestsException":
		return wordedf(err, "Bedrock is rate-limiting or over quota for %s (%s); wait a minute and try again", model, msg)
	case "ResourceNotFoundException":
		return wordedf(err, "the model %s was not found in region %s (%s); the operator must choose a model available there", model, s.regionName(), msg)
	case "ModelTimeoutException":
		return wordedf(err, "the model %s took too long to answer (%s); try again", model, msg)
	case "ModelNotReadyException", "ModelErrorException", "ServiceUnavailableException", "InternalServerException":
		return wordedf(err, "Bedrock could not run the model %s right now (%s: %s); try again later", model, code, msg)
	case "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
		"MissingAuthenticationTokenException", "InvalidClientTokenId", "IncompleteSignature":
		return wordedf(err, "AWS did not accept the server's credentials (%s: %s); the operator must fix the AWS credentials", code, msg)
	}
	return wordedf(err, "Bedrock refused %s (%s: %s)", what, code, msg)
}

// s3Error words a failed S3 read of location.
func (s *service) s3Error(err error, location string) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return s.transportError(err, "Amazon S3")
	}
	code, msg := api.ErrorCode(), strings.TrimSpace(api.ErrorMessage())
	switch code {
	case "NoSuchKey", "NotFound":
		return wordedf(err, "the job finished but its video is not at %s", location)
	case "NoSuchBucket":
		return wordedf(err, "the bucket of %s does not exist; the operator must fix ATRIUM_VIDEO_S3_URI", location)
	case "AccessDenied", "Forbidden":
		return wordedf(err, "AWS refused to let the server read %s; the operator must allow s3:GetObject on it to the server's credentials", location)
	}
	if msg == "" {
		msg = "no message"
	}
	return wordedf(err, "reading %s from S3 failed (%s: %s)", location, code, msg)
}

// transportError words a call that got no answer from AWS: missing
// credentials, or the network.
func (s *service) transportError(err error, service string) error {
	text := err.Error()
	if strings.Contains(text, "get credentials") || strings.Contains(text, "retrieve credentials") {
		return wordedf(err, "the server found no usable AWS credentials for %s; the operator must set AWS_ACCESS_KEY_ID and "+
			"AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or give the server an instance role", service)
	}
	var op *smithy.OperationError
	if errors.As(err, &op) {
		err = op.Err
	}
	return wordedf(err, "could not reach %s: %v", service, err)
}

// contentFiltered tells a refusal by Bedrock's responsible-AI filters
// from other validation errors, by the wording AWS uses for them ("This
// request has been blocked by our content filters.").
func contentFiltered(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "content filter") || strings.Contains(m, "blocked by") ||
		strings.Contains(m, "responsible ai") || strings.Contains(m, "content policy")
}
