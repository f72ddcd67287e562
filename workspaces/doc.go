// Package workspaces owns the people side of Atrium: users and their
// passwords, login tokens, workspaces and their members with roles, chats,
// and the short-lived connection and message strings that let a socket watch
// or speak in a chat. It also declares the error vocabulary (Error, Kind)
// every transport maps to its own status codes.
//
// Every method that acts for a user takes that user's id and checks access
// itself, so no caller can forget to scope a query.
package workspaces
