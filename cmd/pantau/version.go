package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// version overrides the module version from the build info; release builds
// set it with -ldflags "-X main.version=v1.2.3".
var version string

var versionCommand = &command{
	name:    "version",
	summary: "print the version of this binary",
	help: `
Version prints pantau's version, the commit it was built from when known,
and the Go version and platform, on one line.
`,
}

func init() { versionCommand.run = runVersion }

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if code, ok := parseFlags(versionCommand, fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "pantau version: takes no arguments")
		return exitUsage
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(version, bi))
	return exitOK
}

// versionLine renders "pantau v1.2.3 (commit 0123abcd4567, 2026-05-01T10:00:00Z, modified) go1.26 linux/amd64".
// versionString is the version alone, as pantau_build_info reports it.
func versionString(override string, bi *debug.BuildInfo) string {
	v := override
	if v == "" && bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	if v == "" {
		v = "devel"
	}
	return v
}

func versionLine(override string, bi *debug.BuildInfo) string {
	v := versionString(override, bi)
	var vcs []string
	goVersion := runtime.Version()
	if bi != nil {
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if rev := settings["vcs.revision"]; rev != "" {
			vcs = append(vcs, "commit "+rev[:min(12, len(rev))])
		}
		if t := settings["vcs.time"]; t != "" {
			vcs = append(vcs, t)
		}
		if settings["vcs.modified"] == "true" {
			vcs = append(vcs, "modified")
		}
	}
	line := "pantau " + v
	if len(vcs) > 0 {
		line += " (" + strings.Join(vcs, ", ") + ")"
	}
	return line + " " + goVersion + " " + runtime.GOOS + "/" + runtime.GOARCH
}
