package media

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/textract"
	"github.com/aws/aws-sdk-go-v2/service/textract/types"
	"github.com/aws/smithy-go"

	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// textractMaxBytes is the largest document DetectDocumentText takes as
// bytes.
const textractMaxBytes = 10 << 20

// textractText reads the text of the image or one-page PDF at path with
// Textract's DetectDocumentText: its lines, in the order Textract found
// them.
func (k *toolkit) textractText(ctx context.Context, path string) (string, error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if len(doc) > textractMaxBytes {
		return "", fmt.Errorf("the image is %s and Amazon Textract takes at most %s", safehttp.FormatSize(int64(len(doc))), safehttp.FormatSize(textractMaxBytes))
	}
	out, err := k.textract.DetectDocumentText(ctx, &textract.DetectDocumentTextInput{
		Document: &types.Document{Bytes: doc},
	})
	if err != nil {
		return "", textractError(err)
	}
	return textractLines(out.Blocks), nil
}

// textractLines joins the text of the LINE blocks.
func textractLines(blocks []types.Block) string {
	var lines []string
	for _, b := range blocks {
		if b.BlockType == types.BlockTypeLine && aws.ToString(b.Text) != "" {
			lines = append(lines, aws.ToString(b.Text))
		}
	}
	return strings.Join(lines, "\n")
}

// textractError words a failed Textract request for the model.
func textractError(err error) error {
	var unsupported *types.UnsupportedDocumentException
	if errors.As(err, &unsupported) {
		return errors.New("Amazon Textract cannot read this document: it takes PNG, JPEG and TIFF images and one-page PDFs")
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("Amazon Textract refused the request: %s: %s", api.ErrorCode(), api.ErrorMessage())
	}
	return fmt.Errorf("Amazon Textract failed: %w", err)
}
