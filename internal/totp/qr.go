package totp

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode/qr"
)

const (
	// quietZone is the white border, in modules, that ISO/IEC 18004
	// requires around a QR code; scanners struggle without it.
	quietZone = 4
	// MaxQRSize bounds the image side QRCodePNG draws, in pixels.
	MaxQRSize = 4096
)

// Errors from QRCodePNG. They never carry the URI, which holds the secret.
var (
	ErrQRSize     = errors.New("totp: QR code image size out of range")
	ErrQRTooLong  = errors.New("totp: URI too long for a QR code")
	ErrQRTooSmall = errors.New("totp: QR code image size too small for the URI")
)

// QRCodePNG returns a size×size pixel PNG of a QR code (error correction
// level M) holding uri, black on white with the standard 4-module quiet
// zone. Each module is a whole number of pixels; what is left of size is
// white border. size must be at most MaxQRSize and big enough for one
// pixel per module and its quiet zone (about 60 for a typical otpauth URI;
// use 256 or more so that a phone reads it easily from a screen).
//
// The QR code carries the secret: serve it only to its owner, with
// Cache-Control: no-store.
func QRCodePNG(uri string, size int) ([]byte, error) {
	if size <= 0 || size > MaxQRSize {
		return nil, ErrQRSize
	}
	// The library's errors may quote the content, so none is passed on.
	code, err := qr.Encode(uri, qr.M, qr.Unicode)
	if err != nil {
		return nil, ErrQRTooLong
	}
	n := code.Bounds().Dx()
	scale := size / (n + 2*quietZone)
	if scale < 1 {
		return nil, ErrQRTooSmall
	}
	off := (size - n*scale) / 2

	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	origin := code.Bounds().Min
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if !dark(code.At(origin.X+x, origin.Y+y)) {
				continue
			}
			for py := off + y*scale; py < off+(y+1)*scale; py++ {
				row := img.Pix[py*img.Stride:]
				for px := off + x*scale; px < off+(x+1)*scale; px++ {
					row[px] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, errors.New("totp: cannot encode QR code PNG")
	}
	return buf.Bytes(), nil
}

func dark(c color.Color) bool {
	return color.GrayModel.Convert(c).(color.Gray).Y < 0x80
}
