package generate

import (
	"fmt"
	"strconv"
	"strings"
)

// defaultSide is the width and height of an image when the model gives
// none.
const defaultSide = 1024

// imageModel is what text_to_image knows of an image model: its limits,
// checked before calling Bedrock so that a wrong size gets a clear answer
// instead of a ValidationException, and its defaults.
type imageModel struct {
	family    string // "Nova Canvas" or "Titan Image Generator"
	maxPrompt int    // characters of text and of negativeText
	cfgScale  float64
	// Free sizes (Nova Canvas): each side a multiple of step from minSide
	// to maxSide, at most maxPixels, and neither side more than maxRatio
	// times the other.
	step, minSide, maxSide, maxPixels, maxRatio int
	// Fixed sizes (Titan): only these, as [width, height].
	sizes [][2]int
}

// novaCanvas: each side 320 to 4096 pixels and divisible by 16, fewer than
// 4.2 million pixels, an aspect ratio from 1:4 to 4:1.
var novaCanvas = imageModel{
	family: "Nova Canvas", maxPrompt: 1024, cfgScale: 6.5,
	step: 16, minSide: 320, maxSide: 4096, maxPixels: 4_194_304, maxRatio: 4,
}

// titanImage is Titan Image Generator v2, which takes only the sizes of its
// documentation's table (all multiples of 64 but 1173x640, left out).
var titanImage = imageModel{
	family: "Titan Image Generator", maxPrompt: 512, cfgScale: 8,
	sizes: [][2]int{
		{1024, 1024}, {768, 768}, {512, 512},
		{768, 1152}, {384, 576}, {1152, 768}, {576, 384},
		{768, 1280}, {384, 640}, {1280, 768}, {640, 384},
		{896, 1152}, {448, 576}, {1152, 896}, {576, 448},
		{768, 1408}, {384, 704}, {1408, 768}, {704, 384},
		{640, 1408}, {320, 704}, {1408, 640}, {704, 320},
		{1152, 640},
	},
}

// imageModelOf returns what is known of model: Titan's limits for a Titan
// image model, Nova Canvas's for every other.
func imageModelOf(model string) imageModel {
	if strings.Contains(model, "titan-image-generator") {
		return titanImage
	}
	return novaCanvas
}

// checkSize explains why width x height is not a size m can make.
func (m imageModel) checkSize(width, height int) error {
	if m.sizes != nil {
		for _, s := range m.sizes {
			if s[0] == width && s[1] == height {
				return nil
			}
		}
		return fmt.Errorf("%s cannot make a %dx%d image; it makes only these sizes (width x height): %s",
			m.family, width, height, m.sizeList())
	}
	for _, side := range []struct {
		name string
		v    int
	}{{"width", width}, {"height", height}} {
		if side.v < m.minSide || side.v > m.maxSide || side.v%m.step != 0 {
			return fmt.Errorf("%s must be a multiple of %d from %d to %d pixels for %s (it was %d); for example 512, 768, 1024 or 1280",
				side.name, m.step, m.minSide, m.maxSide, m.family, side.v)
		}
	}
	if width*height > m.maxPixels {
		return fmt.Errorf("a %dx%d image has %s pixels, more than the %s that %s makes; use a smaller width or height (2048x2048 at most for a square)",
			width, height, thousands(width*height), thousands(m.maxPixels), m.family)
	}
	if width > m.maxRatio*height || height > m.maxRatio*width {
		return fmt.Errorf("%dx%d is too narrow: one side may be at most %d times the other for %s", width, height, m.maxRatio, m.family)
	}
	return nil
}

// sizeHint is how the tool's description states the allowed sizes.
func (m imageModel) sizeHint() string {
	if m.sizes != nil {
		return "one of these sizes (width x height): " + m.sizeList()
	}
	return fmt.Sprintf("each side a multiple of %d from %d to %d pixels, at most %s pixels in all (2048x2048), "+
		"one side at most %d times the other; 1280x720 is a 16:9 frame", m.step, m.minSide, m.maxSide, thousands(m.maxPixels), m.maxRatio)
}

// thousands writes 4194304 as "4,194,304".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (m imageModel) sizeList() string {
	var b strings.Builder
	for i, s := range m.sizes {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%dx%d", s[0], s[1])
	}
	return b.String()
}
