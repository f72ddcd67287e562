package media

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCombine muxes an ffmpeg test pattern and espeak-ng speech in the
// real file store: ffprobe finds both tracks.
func TestCombine(t *testing.T) {
	t.Parallel()
	need(t, "ffmpeg", "ffprobe", "espeak-ng")
	dir := t.TempDir()
	files, a := realFiles(t)
	put := func(name, path string) string {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fl, err := files.Save(t.Context(), a, "", name, "", "upload", f)
		if err != nil {
			t.Fatal(err)
		}
		return fl.ID
	}
	videoID := put("clip.mp4", testVideo(t, dir, "clip.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p"))
	put("voice.wav", espeakWAV(t, dir, "Hello world, this is the sound track of a longer speech."))
	tool := tools(Config{}, files, nil, nil)[CombineVideoAudioName]

	raw := `{"video": "` + videoID + `", "audio": "voice.wav"}`
	out, err := tool.Call(t.Context(), toolInput(a, raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.FileIDs) != 1 {
		t.Fatalf("FileIDs = %v", out.FileIDs)
	}
	fl, err := files.File(t.Context(), a.ID, out.FileIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if fl.Name != "clip-with-audio.mp4" || fl.ContentType != "video/mp4" || fl.Source != "tool" {
		t.Errorf("file = %+v", fl)
	}
	contains(t, out.Content, "Saved the video of clip.mp4 with the audio of voice.wav as clip-with-audio.mp4 (file id "+fl.ID, "the video copied as it was")
	r, err := files.Open(fl)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := ffprobe(t, r.Name())
	if got := p.codecs(); got != "video:h264,audio:aac" {
		t.Errorf("streams = %s", got)
	}
	// -shortest: the 2 s video, not the longer speech.
	if d := p.duration(t); d < 1.5 || d > 2.5 {
		t.Errorf("duration = %v, want about 2 s", d)
	}
}

// TestCombineReencodes encodes a video whose codec MP4 cannot hold.
func TestCombineReencodes(t *testing.T) {
	t.Parallel()
	need(t, "ffmpeg", "ffprobe", "espeak-ng")
	dir := t.TempDir()
	store := newMemStore(t)
	store.putFile(t, "old.avi", testVideo(t, dir, "old.avi", "-c:v", "huffyuv"))
	store.putFile(t, "voice.wav", espeakWAV(t, dir, "Hello"))
	tool := tools(Config{}, store, nil, nil)[CombineVideoAudioName]

	out := mustCall(t, tool, map[string]any{"video": "old.avi", "audio": "voice.wav"})
	contains(t, out.Content, "old-with-audio.mp4", "the video encoded as H.264")
	if got := ffprobe(t, store.path(out.FileIDs[0])).codecs(); got != "video:h264,audio:aac" {
		t.Errorf("streams = %s", got)
	}
}

func TestCombineErrors(t *testing.T) {
	t.Parallel()
	need(t, "ffmpeg", "espeak-ng")
	dir := t.TempDir()
	store := newMemStore(t)
	store.putFile(t, "clip.mp4", testVideo(t, dir, "clip.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p"))
	store.putFile(t, "voice.wav", espeakWAV(t, dir, "Hello"))
	tone := filepath.Join(dir, "tone.wav")
	sh(t, "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=1", tone)
	// A concat script that would read another file if ffmpeg took it.
	store.put(t, "trick.mp3", []byte("ffconcat version 1.0\nfile '"+tone+"'\n"))
	tool := tools(Config{}, store, nil, nil)[CombineVideoAudioName]
	for _, c := range []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"video": "clip.mp4"}, []string{"the video and audio arguments are required"}},
		{map[string]any{"video": "nope.mp4", "audio": "voice.wav"}, []string{`the video: no file "nope.mp4" in this conversation`}},
		{map[string]any{"video": "voice.wav", "audio": "voice.wav"}, []string{"voice.wav has no video track"}},
		{map[string]any{"video": "clip.mp4", "audio": "clip.mp4"}, []string{"clip.mp4 has no audio track"}},
		{map[string]any{"video": "clip.mp4", "audio": "trick.mp3"}, []string{"combining clip.mp4 and trick.mp3: ffmpeg failed"}},
		{map[string]any{"video": "clip.mp4", "audio": "http://127.0.0.1:1/a.mp3"}, []string{"the audio: could not fetch", "refusing to connect to 127.0.0.1"}},
	} {
		_, err := call(t, tool, c.args)
		wantErr(t, err, c.want...)
	}

	none := tools(Config{FFmpeg: "/nonexistent/ffmpeg"}, store, nil, nil)[CombineVideoAudioName]
	_, err := call(t, none, map[string]any{"video": "clip.mp4", "audio": "voice.wav"})
	wantErr(t, err, "combine_video_audio needs ffmpeg (Debian package ffmpeg)")
}
