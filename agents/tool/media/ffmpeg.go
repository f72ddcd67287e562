package media

// mediaFormats are the container formats ffmpeg may read an input in:
// those of audio and video files. Playlists (hls, dash), concat scripts,
// image sequences and devices are not among them.
const mediaFormats = "gif,mov,matroska,webm,avi,flv,mpegts,mpeg,ogg,wav,mp3,aac,flac,w64,aiff,amr,asf,caf,au,wv,ape,m4v,ivf,mpegvideo,h264,hevc"

// ffmpegInputs is the start of an ffmpeg command line reading paths:
// quiet, without standard input, each input read as a local file only and
// only in the container formats of media files. Without the two lists, a
// playlist or concat script uploaded as "audio" could make ffmpeg read
// other files or fetch URLs from the server's network.
func ffmpegInputs(paths ...string) []string {
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}
	for _, p := range paths {
		args = append(args, "-protocol_whitelist", "file", "-format_whitelist", mediaFormats, "-i", p)
	}
	return args
}
