// Package script runs agent scripts: the short "Python" programs (seed
// 003's Agent Script, the API's modelScript) that decide how an agent
// answers, for example by asking one model, adding a follow-up question and
// asking another:
//
//	initial_response = query("gpt-4o", conversation)
//	follow_up = add("user", f"Explain your reasoning for that", conversation)
//	final_response = query("gpt-4", conversation)
//
// Scripts are Starlark (go.starlark.net), the Python dialect built to be
// embedded, with the options that make it read like Python turned on: if,
// for and while at the top level, rebinding globals, recursion, set().
// Python f-strings, which Starlark lacks, are rewritten into str.format
// calls before parsing, keeping every line where it was (see fstring.go).
//
// A script sees, besides Starlark's built-ins:
//
//   - conversation: the conversation so far, a list of dicts with "role"
//     ("system", "user" or "assistant") and "content";
//   - query(model_name, conversation): asks the model, appends its answer
//     to the conversation as an assistant message, and returns it;
//   - add(role, content, conversation): appends a message and returns the
//     conversation;
//   - attach(content, conversation, location="end"): adds content, on a
//     line of its own, to the end (or, with "start" or "beginning", the
//     start) of the last message, and returns the conversation;
//   - print(...): written to Result.Output, not to the process's output.
//
// # The sandbox
//
// Scripts are written by users and run in the server, so a script can
// reach nothing but the above: Starlark has no file system, network, clock
// or randomness, and load statements are refused. What a script may spend
// is bounded by Limits: interpreter steps, wall time (queries included),
// queries, printed output, the conversation's size, and memory. Starlark
// bounds none of memory itself, so the parsed script is rewritten to pass
// every call and every operator that can grow a value (+, *, %, <<, and
// their augmented forms) through hidden built-ins that charge the result
// to the budget before it is made (see guard.go and budget.go). Call depth,
// range() lengths, integer sizes and script size are bounded for the same
// reason: each would otherwise let one step run, or allocate, without end.
//
// Run calls the Querier on the goroutine running the script; a script that
// is cancelled or times out while a query is in flight stops when the
// Querier returns, which it must do when its context is done.
package script
