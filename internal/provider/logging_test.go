package provider

import (
	"os"
	"testing"
)

// TestQuietWhenNotLogging: without TF_LOG the SDK and provider loggers are
// turned off; a level the user chose is left alone.
func TestQuietWhenNotLogging(t *testing.T) {
	vars := []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"}
	for _, tc := range []struct {
		name string
		set  map[string]string
		want map[string]string
	}{
		{"nothing set", nil, map[string]string{"TF_LOG_SDK": "OFF", "TF_LOG_SDK_PROTO": "OFF", "TF_LOG_SDK_FRAMEWORK": "OFF", "TF_LOG_PROVIDER": "OFF"}},
		{"TF_LOG set", map[string]string{"TF_LOG": "debug"}, map[string]string{"TF_LOG": "debug", "TF_LOG_SDK": "", "TF_LOG_PROVIDER": ""}},
		{"TF_LOG_PROVIDER set", map[string]string{"TF_LOG_PROVIDER": "trace"}, map[string]string{"TF_LOG_PROVIDER": "trace", "TF_LOG_SDK_FRAMEWORK": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range vars {
				t.Setenv(v, tc.set[v])
				if tc.set[v] == "" {
					os.Unsetenv(v)
				}
			}
			QuietWhenNotLogging()
			for k, want := range tc.want {
				if got := os.Getenv(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}
