// Package platformtest holds the scheduler's end-to-end tests through the
// real platform posters: the Slack Poster on fakeslack and the Discord
// Poster on fakediscord, over real databases and, where a test needs it, a
// private redis-server that the test stops and restarts. It has no code of
// its own besides its tests; nothing imports it.
package platformtest
