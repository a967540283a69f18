package totp

import (
	"bytes"
	"errors"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestQRCodePNG(t *testing.T) {
	uri := URI("ACME Co", "john.doe@example.com", rfcSecret)
	for _, size := range []int{200, 256, 300, 512} {
		b, err := QRCodePNG(uri, size)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("size %d: PNG does not decode: %v", size, err)
		}
		if r := img.Bounds(); r.Dx() != size || r.Dy() != size || r.Min.X != 0 || r.Min.Y != 0 {
			t.Fatalf("size %d: bounds %v", size, r)
		}
		// The quiet zone leaves the border white; the code has black.
		var black int
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				if dark(img.At(x, y)) {
					black++
				}
			}
		}
		for _, p := range [][2]int{{0, 0}, {size - 1, 0}, {0, size - 1}, {size - 1, size - 1}, {size / 2, 0}, {0, size / 2}} {
			if g := color.GrayModel.Convert(img.At(p[0], p[1])).(color.Gray); g.Y != 0xff {
				t.Errorf("size %d: border pixel %v is not white", size, p)
			}
		}
		if black == 0 || black > size*size*3/4 {
			t.Errorf("size %d: %d black pixels", size, black)
		}
	}
}

func TestQRCodePNGErrors(t *testing.T) {
	uri := URI("ACME Co", "john.doe@example.com", rfcSecret)
	for _, size := range []int{0, -1, MaxQRSize + 1} {
		if _, err := QRCodePNG(uri, size); !errors.Is(err, ErrQRSize) {
			t.Errorf("size %d: error %v, want ErrQRSize", size, err)
		}
	}
	if _, err := QRCodePNG(uri, 40); !errors.Is(err, ErrQRTooSmall) {
		t.Errorf("size 40: error %v, want ErrQRTooSmall", err)
	}
	long := uri + "&x=" + strings.Repeat("y", 4000)
	_, err := QRCodePNG(long, 1024)
	if !errors.Is(err, ErrQRTooLong) {
		t.Fatalf("long URI: error %v, want ErrQRTooLong", err)
	}
	if strings.Contains(err.Error(), EncodeSecret(rfcSecret)) {
		t.Errorf("error %q contains the secret", err)
	}
}

// requireTool returns the path of a command-line tool, skipping the test
// when it is missing, unless CI=true, where a missing tool fails it.
func requireTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found; install the Debian package %s", name, debianPackage)
		}
		t.Skipf("%s not found (Debian package %s)", name, debianPackage)
	}
	return p
}

// A real QR decoder reads back the URI.
func TestQRCodePNGZbar(t *testing.T) {
	zbarimg := requireTool(t, "zbarimg", "zbar-tools")
	for _, uri := range []string{
		URI("ACME Co", "john.doe+mfa@example.com", rfcSecret),
		URI("Bücher & Co", "jörg@example.com", []byte("0123456789abcdefghijklmnopqrstuvwxyz0123")),
	} {
		b, err := QRCodePNG(uri, 256)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "qr.png")
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zbarimg, "--quiet", "--raw", "-Sbinary", f).Output()
		if err != nil {
			t.Fatalf("zbarimg: %v", err)
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != uri {
			t.Errorf("zbarimg read %q, want %q", got, uri)
		}
	}
}
