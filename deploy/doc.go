// Package deploy holds missionbot's production packaging and the tests that
// prove what can be proved without a container engine: the Dockerfile's
// required instructions, deploy/compose.yaml as the compose-spec loader reads
// it, deploy/nginx.conf as nginx itself checks and runs it, and the static
// binary running from an empty directory as a non-root user.
//
// It has no Go API; see README.md in this directory for running the stack.
package deploy
