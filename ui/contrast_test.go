package ui

import (
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The contrast part of the a11y check: every text colour of the style
// sheets on the background it is drawn on reaches WCAG 2.1's 4.5:1 (SC
// 1.4.3), and the focus outline and field borders 3:1 on white (SC 1.4.11).

var (
	reRule = regexp.MustCompile(`(?s)([^{}]+)\{([^{}]*)\}`)
	reHex  = regexp.MustCompile(`#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b`)
)

type cssRule struct {
	selector string
	props    map[string]string
}

func parseCSS(css string) []cssRule {
	css = regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(css, "")
	var out []cssRule
	for _, m := range reRule.FindAllStringSubmatch(css, -1) {
		r := cssRule{selector: strings.TrimSpace(m[1]), props: map[string]string{}}
		for _, decl := range strings.Split(m[2], ";") {
			k, v, ok := strings.Cut(decl, ":")
			if ok {
				r.props[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		out = append(out, r)
	}
	return out
}

// hexColour is the first #rgb / #rrggbb in v.
func hexColour(v string) (string, bool) {
	m := reHex.FindStringSubmatch(v)
	if m == nil {
		return "", false
	}
	h := strings.ToLower(m[1])
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	return "#" + h, true
}

func luminance(hex string) float64 {
	var c [3]float64
	for i := range c {
		n, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		s := float64(n) / 255
		if s <= 0.04045 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

// contrast is WCAG's contrast ratio of two colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func background(r cssRule) (string, bool) {
	if v, ok := r.props["background-color"]; ok {
		return hexColour(v)
	}
	return hexColour(r.props["background"])
}

// contrastProblems are the colour pairs of css below the ratios. A rule's
// text is on its own background, else on the page's (html) and the card's
// (main); a rule's own background carries its own colour, else the page's
// text colour.
func contrastProblems(css string) []string {
	rules := parseCSS(css)
	var pageText, pageBg, cardBg string
	for _, r := range rules {
		switch r.selector {
		case "html":
			pageText, _ = hexColour(r.props["color"])
			pageBg, _ = background(r)
		case "main":
			cardBg, _ = background(r)
		}
	}
	if pageText == "" || pageBg == "" || cardBg == "" {
		return []string{"no text colour and background on html, or no background on main"}
	}
	var out []string
	check := func(sel, what, fg, bg string, min float64) {
		if c := contrast(fg, bg); c < min {
			out = append(out, fmt.Sprintf("%s: %s %s on %s is %.2f:1, below %.1f:1", sel, what, fg, bg, c, min))
		}
	}
	for _, r := range rules {
		fg, hasFg := hexColour(r.props["color"])
		bg, hasBg := background(r)
		switch {
		case hasFg && hasBg:
			check(r.selector, "text", fg, bg, 4.5)
		case hasFg:
			check(r.selector, "text", fg, pageBg, 4.5)
			check(r.selector, "text", fg, cardBg, 4.5)
		case hasBg:
			check(r.selector, "text", pageText, bg, 4.5)
		}
		for _, p := range []string{"outline", "border"} {
			if c, ok := hexColour(r.props[p]); ok && (p == "outline" || strings.HasPrefix(r.selector, "input")) {
				check(r.selector, p, c, cardBg, 3)
			}
		}
	}
	return out
}

// TestContrast runs the contrast check on the style sheets (also part of
// TestEveryPageRenders' a11y check, through checkContrast).
func TestContrast(t *testing.T) { checkContrast(t) }

func checkContrast(t *testing.T) {
	t.Helper()
	files, err := fs.Glob(assets, "static/*.css")
	if err != nil || len(files) == 0 {
		t.Fatalf("no style sheets: %v", err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(assets, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range contrastProblems(string(b)) {
			t.Errorf("%s: %s", f, p)
		}
	}
}

// TestContrastCheckFails: the check finds a pale text, a pale text on its
// own background, a dark background under the page's dark text and a
// pale focus outline; and knows WCAG's ratios.
func TestContrastCheckFails(t *testing.T) {
	if c := contrast("#000000", "#ffffff"); math.Abs(c-21) > 0.01 {
		t.Fatalf("black on white = %.2f", c)
	}
	if c := contrast("#767676", "#ffffff"); c < 4.5 || c > 4.6 {
		t.Fatalf("#767676 on white = %.2f, want 4.54", c)
	}
	good := `html{color:#1a1a1a;background:#f4f5f7} main{background:#fff} .x{color:#4a4f57}`
	if p := contrastProblems(good); len(p) != 0 {
		t.Fatalf("a good sheet: %v", p)
	}
	for fault, css := range map[string]string{
		"pale text":         good + ` .hint{color:#999}`,
		"pale on own":       good + ` .b{background:#0b4f9c;color:#6a8fc0}`,
		"dark bg, dark txt": good + ` .d{background:#333333}`,
		"pale outline":      good + ` :focus{outline:3px solid #eeeeee}`,
		"pale field border": good + ` input{border:1px solid #dddddd}`,
		"no page colours":   `main{background:#fff}`,
	} {
		if p := contrastProblems(css); len(p) == 0 {
			t.Errorf("%s: not found", fault)
		}
	}
}
