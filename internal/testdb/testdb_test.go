package testdb_test

import (
	"testing"

	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/storage"
)

func TestOpenBoth(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		st, err := s.Migrations(t.Context())
		if err != nil || len(st) == 0 || st[0].AppliedAt.IsZero() {
			t.Fatalf("migrations: %v %+v", err, st)
		}
	})
}
