// Package cv provides capture sources backed by OpenCV through gocv:
// V4L2 cameras, GStreamer pipelines (Jetson CSI cameras), network streams,
// video files and folders of images. Importing it registers the kinds
// camera, gstreamer, url, file and folder with capture.New.
//
// Every source converts OpenCV's BGR Mats to packed RGB in the caller's
// reused buffer and reuses its Mats, so reading allocates nothing per frame
// (except folders, whose decoder returns a new Mat per image).
//
// OpenCV calls cannot be interrupted, so camera, stream and file sources
// run them on a goroutine of their own: a Read or Open whose context ends
// returns at once, and the stuck capture is released when OpenCV lets go of
// it. That is what lets the Grabber's watchdog recover from a wedged RTSP
// stream or an unplugged camera.
//
// Doctor and Probe back `edge doctor`: what OpenCV can do on this machine,
// and whether the configured source delivers a frame.
package cv
