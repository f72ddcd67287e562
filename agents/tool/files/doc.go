// Package files holds the built-in tools that read and write a
// conversation's files (seed 000: "read_file - Read files from storage",
// "write_file - Write files to storage").
//
// Files are named flat, as agents.Files stores them: a path's directories
// are dropped and only its last element, the file name, is used. A path
// with a ".." element, or an absolute path with directories ("/etc/passwd"),
// is refused, so a model cannot be talked into reaching past the
// conversation. read_file also takes a file id. Writing a name again makes
// a new version of the file, and read_file then reads the newest one.
package files
