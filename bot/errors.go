package bot

import (
	"errors"
	"fmt"
)

// UserError is an outcome the person who typed the command should read: what
// was wrong and a correct example. Handlers return it; adapters show it
// privately. Nothing is stored by a command that ends in a UserError.
type UserError struct {
	Msg     string
	Example string
}

func (e *UserError) Error() string {
	if e.Example == "" {
		return e.Msg
	}
	return e.Msg + " Example: " + e.Example
}

// Userf returns a *UserError with a formatted message and a correct example
// (which may be empty when the message already says what to do).
func Userf(example, format string, args ...any) error {
	return &UserError{Msg: fmt.Sprintf(format, args...), Example: example}
}

// AsUserError reports whether err carries a *UserError and returns it.
func AsUserError(err error) (*UserError, bool) {
	var ue *UserError
	if errors.As(err, &ue) {
		return ue, true
	}
	return nil, false
}

// ErrUnavailable marks a failure of the store that is worth retrying later
// (database down, lock timeout). The user is told to try again.
var ErrUnavailable = errors.New("temporarily unavailable")
