// Package text holds Atrium's built-in tools that work on text with the
// agent's own model (seed 000's summarization, question_answering,
// translation and svg_diagram). They ask the model through
// agents.ToolInput.Complete, so their tokens are counted with the run's,
// and they fail with a clear error when the run has no model.
//
//   - summarization summarizes text or a text file of the conversation.
//     Text longer than one model call takes is summarized in parts, whose
//     summaries are then combined (map-reduce), up to a cap on the input.
//   - question_answering answers a question from a given context or, when
//     none is given, from the conversation's last messages, and tells the
//     model to say when the context does not hold the answer.
//   - translation uses Amazon Translate when an aws.Config is given, and
//     the agent's model otherwise; the result names the engine.
//   - svg_diagram has the model draw an SVG diagram, then keeps only a
//     sanitized, well-formed copy of it (an allow-list of elements and
//     attributes, no scripts, event handlers or external references) and
//     saves it as a file of the conversation.
//
// Files are read and written through Store, which *agents.Files
// implements.
package text
