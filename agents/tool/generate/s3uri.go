package generate

import (
	"errors"
	"fmt"
	"strings"
)

// ValidateS3URI checks an S3 location such as ATRIUM_VIDEO_S3_URI:
// "s3://bucket" or "s3://bucket/prefix/", so that a typo fails at
// start-up rather than on the first video.
func ValidateS3URI(uri string) error {
	_, _, err := parseS3URI(uri)
	return err
}

// parseS3URI splits "s3://bucket/key" into bucket and key (which may be
// empty, or end with a slash).
func parseS3URI(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an S3 URI like s3://my-bucket/videos/", uri)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if err := checkBucket(bucket); err != nil {
		return "", "", fmt.Errorf("%q: %w", uri, err)
	}
	if strings.ContainsAny(key, "\x00\r\n") || len(key) > 1024 {
		return "", "", fmt.Errorf("%q: not a valid S3 key", uri)
	}
	return bucket, key, nil
}

// checkBucket checks S3's bucket naming rules, loosely: 3 to 63 lower-case
// letters, digits, dots and hyphens, starting and ending with a letter or
// digit.
func checkBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return errors.New("a bucket name has 3 to 63 characters")
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '.' && c != '-' || i == 0 || i == len(b)-1) {
			return errors.New("a bucket name has only lower-case letters, digits, dots and hyphens, and starts and ends with a letter or digit")
		}
	}
	return nil
}

// joinS3 appends name to the S3 location uri, with one slash between.
func joinS3(uri, name string) string {
	return strings.TrimRight(uri, "/") + "/" + name
}
