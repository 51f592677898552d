package preprocess

import "testing"

func TestResizedSize(t *testing.T) {
	tests := []struct {
		w, h, size int
		rw, rh     int
	}{
		{640, 480, 224, 298, 224},  // 298.67 truncates, never rounds up
		{480, 640, 224, 224, 298},  // portrait mirrors landscape
		{1280, 720, 224, 398, 224}, // 398.22
		{224, 224, 224, 224, 224},  // square: untouched
		{100, 100, 80, 80, 80},
		{50, 30, 64, 106, 64}, // upscale: 106.67
		{3, 1, 7, 21, 7},      // exact quotient stays exact
		{1, 1, 4096, 4096, 4096},
		{1, 9999, 224, 224, 2239776},
	}
	for _, tt := range tests {
		rw, rh := ResizedSize(tt.w, tt.h, tt.size)
		if rw != tt.rw || rh != tt.rh {
			t.Errorf("ResizedSize(%d, %d, %d) = %dx%d, want %dx%d", tt.w, tt.h, tt.size, rw, rh, tt.rw, tt.rh)
		}
	}
}

func TestCenterCropOffset(t *testing.T) {
	tests := []struct {
		rw, rh, size int
		left, top    int
	}{
		{298, 224, 224, 37, 0},
		{224, 298, 224, 0, 37},
		{224, 224, 224, 0, 0},
		{225, 224, 224, 0, 0}, // 0.5 rounds to even 0
		{227, 224, 224, 2, 0}, // 1.5 -> 2
		{229, 224, 224, 2, 0}, // 2.5 -> 2 (torchvision 0.8/0.9 would take 3)
		{224, 231, 224, 0, 4}, // 3.5 -> 4 (a floor would take 3)
		{125, 64, 64, 30, 0},  // 30.5 -> 30
	}
	for _, tt := range tests {
		left, top := CenterCropOffset(tt.rw, tt.rh, tt.size)
		if left != tt.left || top != tt.top {
			t.Errorf("CenterCropOffset(%d, %d, %d) = (%d, %d), want (%d, %d)", tt.rw, tt.rh, tt.size, left, top, tt.left, tt.top)
		}
	}
}
