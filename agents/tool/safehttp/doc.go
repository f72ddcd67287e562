// Package safehttp is the outbound HTTP client of Atrium's tools: the URL
// resolver, custom HTTP tools, web search and MCP over HTTP. A tool fetches
// whatever URL a model (and so, indirectly, any web page or user) asks for,
// which would let a prompt reach the server's own network: the database on
// localhost, a service on 10.0.0.0/8, or the cloud metadata endpoint that
// hands out credentials. The client refuses those addresses unless the
// operator allows them (ATRIUM_TOOLS_ALLOW_HOSTS).
//
// The check runs on the IP address actually being dialed, in the dialer's
// Control hook, after DNS resolution: a host name that resolves (or later
// re-resolves) to a private address is refused, and so is every hop of a
// redirect. Proxies from the environment are never used, since a proxy
// would make the dialed address the proxy's and hide the real target.
package safehttp
