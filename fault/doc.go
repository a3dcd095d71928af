// Package fault holds the fault suite's infrastructure: private PostgreSQL
// and Redis servers it starts, stops, pauses and restarts on their own ports
// (never the shared 5432 and 6379), a TCP gate that stalls a connection on
// demand, two real `missionbot serve` replicas built from this checkout, a
// local fake of the Slack Web API that records calls and injects 429 and 500
// bursts, a client that signs slash commands as Slack does, and queries that
// count stored effects (pledges, contributions, outbox rows) in PostgreSQL.
//
// Everything here is for tests: helpers take a testing.TB, fail it on
// infrastructure errors and clean up with t.Cleanup. The scenarios live in
// suite_test.go and run only with MISSIONBOT_FAULT=1 (see README.md).
package fault
