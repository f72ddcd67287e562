package generate

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecodeImage feeds InvokeModel answers, which come from the network,
// to decodeImage: it must never panic, and what it accepts is a PNG or
// JPEG whose size it knows.
func FuzzDecodeImage(f *testing.F) {
	png := picture(f, "png", 4, 3)
	f.Add([]byte(`{"images":["` + base64.StdEncoding.EncodeToString(png) + `"]}`))
	f.Add([]byte(`{"images":[],"error":"blocked by content filters"}`))
	f.Add([]byte(`{"images":["not base64!"]}`))
	f.Add([]byte(`{"images":null,"error":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		img, err := decodeImage(body)
		if err != nil {
			return
		}
		if img.format != "png" && img.format != "jpeg" || len(img.data) == 0 || img.width < 0 || img.height < 0 {
			t.Errorf("accepted %+v", img)
		}
	})
}

// FuzzParseS3URI: output locations come from Bedrock's answers.
func FuzzParseS3URI(f *testing.F) {
	for _, s := range []string{"s3://atrium-videos/out/job42", "s3://b", "s3://a.b-c/", "https://x", "s3://ab/\x00", "s3:///key"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		bucket, key, err := parseS3URI(uri)
		if err != nil {
			return
		}
		if checkBucket(bucket) != nil || strings.ContainsAny(key, "\x00\r\n") || "s3://"+bucket+"/"+key != uri && "s3://"+bucket != uri {
			t.Errorf("parseS3URI(%q) = %q, %q", uri, bucket, key)
		}
	})
}

// FuzzArguments: arguments are whatever a model wrote.
func FuzzArguments(f *testing.F) {
	for _, s := range []string{`{"width":1024}`, `{"width":"1024"}`, `{"width":1e400}`, `{"width":-0.0}`, `{"width":null}`, `{"width":" 12 "}`, `{"width":1024.5}`, `{"width":"0x10"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		a, err := parseArguments(json.RawMessage(raw), "{}")
		if err != nil {
			return
		}
		n, err := a.integer("width", 1024, "pixels")
		if err == nil && (n > 1e9 || n < -1e9) {
			t.Errorf("integer(%s) = %d", raw, n)
		}
		a.text("width")
	})
}
