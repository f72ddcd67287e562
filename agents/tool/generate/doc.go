// Package generate holds Atrium's built-in tools that make media on AWS
// Bedrock (seed 000): text_to_image ("Generate images (AWS Bedrock)"),
// text_to_video ("Generate video from text (Bedrock Luma/Nova)") and
// image_to_video ("Generate video from image"). Each result is saved as a
// file of the conversation, and its file_id goes back to the model and in
// ToolOutput.FileIDs.
//
// text_to_image calls InvokeModel with Amazon Nova Canvas by default
// (Titan Image Generator v2 takes the same request) and gets the image in
// the answer. The video tools call StartAsyncInvoke with Amazon Nova Reel:
// Bedrock writes the video to the operator's S3 location, the tool polls
// GetAsyncInvoke until the job ends, then streams output.mp4 from S3 into
// the file store. A video takes minutes, so the video tools are
// agents.TimedTool with their own time limit; when it passes (or the run is
// cancelled) the tool stops polling, but the job goes on in AWS, and the
// error says so.
//
// There is no local fallback: without an AWS configuration every tool
// fails saying what the operator must set, and never pretends to have made
// anything. Input images given by URL are fetched through safehttp, so a
// model cannot be steered into the server's own network.
package generate
