package generate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/workspaces"
)

// inputImage is the starting frame of image_to_video.
type inputImage struct {
	data   []byte
	format string // "png" or "jpeg", as Nova Reel names them
	name   string // the file's name, or the URL's last path element
}

// loadImage reads the image ref names: an http(s) URL, fetched through
// safehttp, or else a file of the conversation by id or name. It checks
// what Nova Reel needs, rather than resizing: a changed frame would not
// be the image the user chose.
func (s *service) loadImage(ctx context.Context, in agents.ToolInput, ref string) (inputImage, error) {
	var (
		img inputImage
		err error
	)
	lower := strings.ToLower(ref)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		img, err = s.fetchImage(ctx, ref)
	} else {
		img, err = s.fileImage(ctx, in, ref)
	}
	if err != nil {
		return inputImage{}, err
	}
	img.format, err = checkFrame(img.data, img.name)
	if err != nil {
		return inputImage{}, err
	}
	return img, nil
}

// fileImage reads the conversation's file ref.
func (s *service) fileImage(ctx context.Context, in agents.ToolInput, ref string) (inputImage, error) {
	f, err := s.store.Find(ctx, in.Agent.ID, in.ChatID, ref)
	if workspaces.ErrorKind(err) == workspaces.KindNotFound {
		return inputImage{}, fmt.Errorf("no file %q in this conversation: give the file_id or name of an uploaded or generated image, or an http(s) URL", ref)
	}
	if err != nil {
		return inputImage{}, fmt.Errorf("could not look up the file %q: %w", ref, err)
	}
	if f.Size > s.cfg.MaxImageBytes {
		return inputImage{}, fmt.Errorf("the file %s is %s, more than the %s an input image may have",
			f.Name, safehttp.FormatSize(f.Size), safehttp.FormatSize(s.cfg.MaxImageBytes))
	}
	r, err := s.store.Open(f)
	if err != nil {
		return inputImage{}, fmt.Errorf("could not open the file %s: %w", f.Name, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, s.cfg.MaxImageBytes+1))
	if err != nil {
		return inputImage{}, fmt.Errorf("could not read the file %s: %w", f.Name, err)
	}
	return inputImage{data: data, name: f.Name}, nil
}

// fetchImage gets the image at rawURL.
func (s *service) fetchImage(ctx context.Context, rawURL string) (inputImage, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return inputImage{}, fmt.Errorf("%q is not a valid URL", rawURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return inputImage{}, fmt.Errorf("%q is not a valid URL", rawURL)
	}
	req.Header.Set("Accept", "image/png,image/jpeg;q=0.9,image/*;q=0.5")
	resp, err := s.fetch.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return inputImage{}, fmt.Errorf("could not fetch the image %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return inputImage{}, fmt.Errorf("could not fetch the image %s: it answered %s", u.Redacted(), resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxImageBytes+1))
	if err != nil {
		if errors.Is(err, safehttp.ErrBodyTooLarge) {
			return inputImage{}, fmt.Errorf("the image at %s is too large: %w", u.Redacted(), err)
		}
		return inputImage{}, fmt.Errorf("could not read the image %s: %w", u.Redacted(), err)
	}
	if int64(len(data)) > s.cfg.MaxImageBytes {
		return inputImage{}, fmt.Errorf("the image at %s is more than the %s an input image may have",
			u.Redacted(), safehttp.FormatSize(s.cfg.MaxImageBytes))
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." {
		name = "image"
	}
	return inputImage{data: data, name: name}, nil
}

// checkFrame checks that data is what Nova Reel takes as a first frame: a
// PNG or JPEG of exactly 1280x720 pixels. It returns the format.
func checkFrame(data []byte, name string) (string, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if ct := http.DetectContentType(data); strings.HasPrefix(ct, "image/") {
			return "", fmt.Errorf("%s is a %s image; Nova Reel takes only PNG or JPEG, so convert it first", name, strings.TrimPrefix(ct, "image/"))
		}
		return "", fmt.Errorf("%s is not a PNG or JPEG image", name)
	}
	if format != "png" && format != "jpeg" {
		return "", fmt.Errorf("%s is a %s image; Nova Reel takes only PNG or JPEG, so convert it first", name, format)
	}
	if cfg.Width != videoWidth || cfg.Height != videoHeight {
		return "", fmt.Errorf("%s is %dx%d pixels, but Nova Reel needs a starting image of exactly %dx%d (16:9 landscape). "+
			"It was not resized: resize or crop it to %dx%d first, or make one with text_to_image (width %d, height %d)",
			name, cfg.Width, cfg.Height, videoWidth, videoHeight, videoWidth, videoHeight, videoWidth, videoHeight)
	}
	return format, nil
}
