// Package web holds Atrium's built-in tools that read the web. The
// url_resolver tool (seed 000: "Resolve and fetch URLs (auto-adds https://
// if missing)") fetches one URL through safehttp, so that a model cannot be
// steered into the server's own network, and turns the answer into text a
// model can read: the title and visible text of an HTML page, the text of
// plain-text and JSON answers, and a one-line description of anything else.
package web
