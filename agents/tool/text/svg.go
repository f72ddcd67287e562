package text

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
)

// SVGDiagramName is the svg_diagram tool's name, as agent configurations
// enable it.
const SVGDiagramName = "svg_diagram"

// Limits of svg_diagram. An SVG under maxInlineSVG is also shown to the
// model, which can then describe or adjust it; a bigger one is only in
// its file.
const (
	maxSVGDescription = 8000
	maxSVGTitle       = 200
	minSVGSide        = 50
	maxSVGSide        = 4000
	maxInlineSVG      = 8 << 10
	svgTimeout        = 4 * time.Minute
)

// svgParams is the JSON schema of the tool's arguments.
const svgParams = `{"type":"object","properties":{` +
	`"description":{"type":"string","description":"What to draw, in detail: the building, floor plan, elevation, site plan or architecture; its parts, their sizes and positions, labels and dimensions."},` +
	`"title":{"type":"string","description":"A short title, shown as the diagram's title and used to name its file."},` +
	`"width":{"type":"integer","minimum":50,"maximum":4000,"description":"Width in pixels. Default 800."},` +
	`"height":{"type":"integer","minimum":50,"maximum":4000,"description":"Height in pixels. Default 600."}},` +
	`"required":["description"]}`

const svgExample = `{"description": "Floor plan of a two-bedroom flat…", "title": "Flat floor plan"}`

// SVGDiagram is the svg_diagram tool (seed 000: "Generate SVG diagrams for
// buildings/architecture"). It is safe for concurrent use.
type SVGDiagram struct {
	files Store
}

var _ agents.TimedTool = (*SVGDiagram)(nil)

// NewSVGDiagram returns the svg_diagram tool, saving diagrams in files. A
// nil files saves nothing: the SVG is only returned.
func NewSVGDiagram(files Store) *SVGDiagram {
	return &SVGDiagram{files: files}
}

// Spec describes the tool to the model.
func (s *SVGDiagram) Spec() agents.ToolSpec {
	return agents.ToolSpec{
		Name: SVGDiagramName,
		Description: "Draw a diagram as an SVG image, especially of buildings and architecture: floor plans, " +
			"elevations, sections, site plans, and system or software architecture. Describe what to draw in detail. " +
			"The diagram is saved as an .svg file of this conversation (its file_id is returned), and shown " +
			"as SVG markup when it is small.",
		Parameters: json.RawMessage(svgParams),
	}
}

// Timeout is the longest one call may take: the model writes a long answer,
// perhaps twice.
func (s *SVGDiagram) Timeout() time.Duration { return svgTimeout }

// Call draws the diagram of the arguments.
func (s *SVGDiagram) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var args struct {
		Description *string  `json:"description"`
		Title       string   `json:"title"`
		Width       *float64 `json:"width"`
		Height      *float64 `json:"height"`
	}
	if err := decodeArgs(in.Arguments, &args, svgExample); err != nil {
		return agents.ToolOutput{}, err
	}
	if args.Description == nil || strings.TrimSpace(*args.Description) == "" {
		return agents.ToolOutput{}, fmt.Errorf("the description argument is required, like %s", svgExample)
	}
	description := strings.TrimSpace(*args.Description)
	if n := utf8.RuneCountInString(description); n > maxSVGDescription {
		return agents.ToolOutput{}, fmt.Errorf("the description is too long (%s characters); use at most %s",
			formatCount(n), formatCount(maxSVGDescription))
	}
	title, _ := cutRunes(strings.Join(strings.Fields(args.Title), " "), maxSVGTitle)
	opts := svgOptions{title: title}
	var err error
	if opts.width, err = svgSide("width", args.Width, defaultSVGW); err != nil {
		return agents.ToolOutput{}, err
	}
	if opts.height, err = svgSide("height", args.Height, defaultSVGH); err != nil {
		return agents.ToolOutput{}, err
	}
	if in.Complete == nil {
		return agents.ToolOutput{}, needModel(SVGDiagramName)
	}

	drawing, err := draw(ctx, in.Complete, description, opts)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	size := fmt.Sprintf("%s, %s×%s", formatSize(len(drawing.svg)), formatNumber(drawing.width), formatNumber(drawing.height))
	var out strings.Builder
	var ids []string
	if s.files != nil {
		name := fileName(title, description)
		f, err := s.files.Save(ctx, in.Agent, in.ChatID, name, "image/svg+xml", "tool", strings.NewReader(drawing.svg))
		if err != nil {
			return agents.ToolOutput{}, fmt.Errorf("saving the diagram: %w", err)
		}
		ids = append(ids, f.ID)
		fmt.Fprintf(&out, "Saved the diagram as %s (file_id: %s; %s).", f.Name, f.ID, size)
	} else {
		fmt.Fprintf(&out, "Drew the diagram (%s); it was not saved as a file.", size)
	}
	if len(drawing.svg) < maxInlineSVG || s.files == nil {
		out.WriteString("\n\n" + drawing.svg)
	} else {
		out.WriteString(" It is too large to show here; refer to its file.")
	}
	return agents.ToolOutput{Content: out.String(), FileIDs: ids}, nil
}

// svgSide checks a width or height argument.
func svgSide(name string, v *float64, def float64) (float64, error) {
	if v == nil {
		return def, nil
	}
	if math.IsNaN(*v) || *v < minSVGSide || *v > maxSVGSide {
		return 0, fmt.Errorf("the %s must be between %d and %d pixels", name, minSVGSide, maxSVGSide)
	}
	return math.Round(*v), nil
}

// draw asks the model for the diagram, and once more with a stricter
// prompt when its answer holds no usable SVG.
func draw(ctx context.Context, complete func(ctx context.Context, system, prompt string) (string, error), description string, opts svgOptions) (sanitizedSVG, error) {
	w, h := formatNumber(opts.width), formatNumber(opts.height)
	system := "You draw clear, accurate diagrams as standalone SVG documents, especially of buildings and architecture: " +
		"floor plans, elevations, sections, site plans, and system or software architecture. Rules: " +
		`answer with one <svg> element only; use xmlns="http://www.w3.org/2000/svg", width="` + w + `", height="` + h +
		`" and viewBox="0 0 ` + w + " " + h + `"; draw a white background rect first; ` +
		"use only g, defs, rect, circle, ellipse, line, polyline, polygon, path, text, tspan, marker, linearGradient, " +
		"radialGradient, pattern, clipPath, mask, symbol and use; style with presentation attributes (fill, stroke, " +
		"stroke-width, font-family, font-size, text-anchor) instead of CSS; no scripts, event handlers, images, links, " +
		"external fonts, foreignObject or animation. Label rooms, parts and dimensions with readable text kept inside the canvas, " +
		"and keep a consistent scale."
	prompt := "Draw this diagram:\n\n" + description
	if opts.title != "" {
		prompt += "\n\nTitle: " + opts.title
	}
	var last error
	for attempt := range 2 {
		sys := system
		if attempt > 0 {
			sys += "\n\nYour previous answer could not be used (" + last.Error() + "). " +
				"Answer now with nothing but the SVG markup: start with <svg and end with </svg>, " +
				"no explanation and no Markdown fences. Keep it simple enough to finish."
		}
		answer, err := complete(ctx, sys, prompt)
		if err != nil {
			return sanitizedSVG{}, fmt.Errorf("the model failed: %w", err)
		}
		raw, err := extractSVG(answer)
		if err == nil {
			var d sanitizedSVG
			if d, err = sanitizeSVG(raw, opts); err == nil {
				return d, nil
			}
		}
		last = err
	}
	return sanitizedSVG{}, fmt.Errorf("the model did not draw a usable SVG, twice (%v); try a simpler or clearer description", last)
}

// fileName makes the diagram's file name from its title, else the first
// words of its description: lowercase ASCII words joined by "-", at most
// 40 bytes of whole words.
func fileName(title, description string) string {
	src := title
	if src == "" {
		src = description
	}
	words := strings.FieldsFunc(strings.ToLower(src), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	name := ""
	for _, w := range words {
		next := w
		if name != "" {
			next = name + "-" + w
		}
		if len(next) > 40 {
			if name == "" {
				name = w[:40]
			}
			break
		}
		name = next
	}
	if name == "" {
		name = "diagram"
	}
	return name + ".svg"
}
