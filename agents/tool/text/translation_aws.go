package text

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/translate"
	"github.com/aws/smithy-go"
)

// viaAWS translates text with Amazon Translate, in pieces of at most
// 10,000 bytes cut at paragraph or sentence ends. It returns the language
// Translate detected when source is nil.
func (t *Translation) viaAWS(ctx context.Context, text string, source *language, target language) (string, *language, error) {
	src := "auto"
	if source != nil {
		src = source.code
	}
	pieces := splitText(text, awsPieceBytes)
	detected := make([]string, len(pieces)) // each call writes its own slot
	out, err := mapLimit(ctx, pieces, parallelCalls, func(ctx context.Context, i int, piece string) (string, error) {
		// Translate trims the text, so the space around it is put back.
		lead, core, trail := trimSpaceKeep(piece)
		if core == "" {
			return piece, nil
		}
		resp, err := t.aws.TranslateText(ctx, &translate.TranslateTextInput{
			Text:               aws.String(core),
			SourceLanguageCode: aws.String(src),
			TargetLanguageCode: aws.String(target.code),
		})
		if err != nil {
			return "", awsError(err, source, target)
		}
		detected[i] = aws.ToString(resp.SourceLanguageCode)
		return lead + aws.ToString(resp.TranslatedText) + trail, nil
	})
	if err != nil {
		return "", nil, err
	}
	var found *language
	if source == nil {
		for _, code := range detected {
			if code == "" {
				continue
			}
			l, err := findLanguage(code)
			if err != nil {
				l = language{code: code}
			}
			found = &l
			break
		}
	}
	return strings.Join(out, ""), found, nil
}

// awsError words a failed TranslateText for the model.
func awsError(err error, source *language, target language) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("could not reach %s: %w", engineAWS, err)
	}
	detail := strings.TrimSpace(ae.ErrorMessage())
	if detail != "" {
		detail = ": " + detail
	}
	switch ae.ErrorCode() {
	case "UnsupportedLanguagePairException":
		from := "the text's language"
		if source != nil {
			from = source.name
		}
		return fmt.Errorf("%s cannot translate from %s to %s%s", engineAWS, from, target.name, detail)
	case "DetectedLanguageLowConfidenceException":
		return fmt.Errorf("%s could not tell which language the text is in: give source_language", engineAWS)
	case "TooManyRequestsException", "LimitExceededException", "ThrottlingException":
		return fmt.Errorf("%s is busy (too many requests); try again later", engineAWS)
	case "ServiceUnavailableException", "InternalServerException":
		return fmt.Errorf("%s failed (%s); try again later", engineAWS, ae.ErrorCode())
	case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
		"ExpiredTokenException", "InvalidClientTokenId", "MissingAuthenticationToken":
		return fmt.Errorf("%s refused the server's AWS credentials (%s); the operator must fix them", engineAWS, ae.ErrorCode())
	}
	return fmt.Errorf("%s failed: %s%s", engineAWS, ae.ErrorCode(), detail)
}
