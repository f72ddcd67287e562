// Package media holds Atrium's built-in tools for sound, images and video
// (seed 000 §1 and §6.3):
//
//   - text_to_speech turns text into an audio file: Amazon Polly when AWS
//     is configured, else the local espeak-ng (converted to MP3 by ffmpeg
//     when it is installed).
//   - transcription turns the speech of an audio or video file into text
//     with Amazon Transcribe Streaming, after ffmpeg has decoded it to
//     16 kHz mono PCM. There is no offline engine: pocketsphinx (Debian's
//     pocketsphinx and pocketsphinx-en-us) was tried on clear espeak-ng
//     speech and got at best a third of the words right, usually far fewer
//     ("hello world" came out as "oh wow really"), which would hand the
//     model a confident but wrong transcript.
//   - ocr reads the text of an image or a PDF: Amazon Textract when AWS is
//     configured, else the local tesseract; PDF pages are first rendered to
//     images by pdftoppm.
//   - combine_video_audio puts an audio track on a video with ffmpeg.
//
// Inputs are conversation files (by id or name) or URLs, fetched through
// safehttp so that a model cannot reach the server's own network. Every
// file a tool makes is saved as a generated file (source "tool") and its id
// returned in ToolOutput.FileIDs.
//
// Local programs are looked up when a tool is called, so installing one
// needs no restart, and a missing one is named with its Debian package.
// They run without a shell, on copies of the inputs under fixed names in a
// private temporary directory that is removed afterwards, so no user-chosen
// name ever reaches a command line. ffmpeg reads inputs with a list of
// allowed container formats and the file protocol only: a playlist or
// concat script could otherwise make it read other local files or URLs.
package media
