package bundle

import (
	"fmt"
	"os"
	"path/filepath"
)

// generatedDirs are the bundle directory's subdirectories Write replaces whole.
var generatedDirs = []string{"manifests", "metadata", "tests"}

// Write replaces the generated subdirectories of dir with files; other files in dir (a
// README) are kept.
func Write(dir string, files []File) error {
	for _, d := range generatedDirs {
		if err := os.RemoveAll(filepath.Join(dir, d)); err != nil {
			return err
		}
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
	}
	return nil
}
