package hub_test

import "net/http"

// testHTTP is the tests' HTTP client. Not http.DefaultClient: any
// httptest.Server's Close closes http.DefaultTransport's idle
// connections, which breaks a parallel test's request that has just
// picked one ("http: CloseIdleConnections called").
var testHTTP = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
