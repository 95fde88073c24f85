package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// EUNAUTHORIZED is the code of a failed sign-in, an ended or expired session and a
// bad API key: the caller is not who it needs to be. The web layer answers 401, or
// shows the sign-in form again.
const EUNAUTHORIZED = "unauthorized"

// errBadCredentials is the one answer to a wrong email or a wrong password, so
// the message does not tell which emails exist.
var errBadCredentials = Errorf(EUNAUTHORIZED, "The email or password is incorrect.")

// MaxEmailLength is the longest email address accepted (RFC 5321's path limit).
const MaxEmailLength = 254

// NormalizeEmail returns email trimmed and lower-cased: emails are compared
// without regard to case, and stored that way.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// IsAdmin reports whether the member may pay and renew plans of the account.
func (m Membership) IsAdmin() bool { return m.Role == RoleAdmin }

// ParseRole returns the Role named by s, or an EINVALID error.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleAdmin, RoleViewer:
		return r, nil
	}
	return "", FieldError("role", "A role is admin or viewer, not %q.", s)
}

// CreateUser adds a user who signs in with email and password. It returns an
// EINVALID error for a malformed email, an empty name or a short password, and an
// ECONFLICT error when the email is taken.
func (db *DB) CreateUser(ctx context.Context, email, name, password string) (User, error) {
	email, name = NormalizeEmail(email), strings.TrimSpace(name)
	hash, err := newUserHash(email, name, password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = db.update(ctx, func(tx *Tx) (err error) {
		u, err = createUser(ctx, tx, email, name, hash)
		return err
	})
	return u, err
}

// AddUser makes the user with email a member of the account with accountCode
// in role, first creating the user with name and password when the email is
// new; an existing user keeps their name and password. It is one transaction:
// a failure leaves no user without their membership. It reports whether it
// created the user, and returns the errors of CreateUser and AddMembership.
func (db *DB) AddUser(ctx context.Context, email, name, password, accountCode string, role Role) (User, Membership, bool, error) {
	email, name = NormalizeEmail(email), strings.TrimSpace(name)
	if _, err := ParseRole(string(role)); err != nil {
		return User{}, Membership{}, false, err
	}
	var hash string
	if _, err := db.FindUserByEmail(ctx, email); ErrorCode(err) == ENOTFOUND {
		if hash, err = newUserHash(email, name, password); err != nil {
			return User{}, Membership{}, false, err
		}
	} else if err != nil {
		return User{}, Membership{}, false, err
	}
	var u User
	var m Membership
	var created bool
	err := db.update(ctx, func(tx *Tx) (err error) {
		u, err = findUserByEmail(ctx, tx, email)
		if ErrorCode(err) == ENOTFOUND && hash != "" {
			u, err = createUser(ctx, tx, email, name, hash)
			created = true
		}
		if err != nil {
			return err
		}
		m, err = addMembership(ctx, tx, u.ID, accountCode, role)
		return err
	})
	if err != nil {
		return User{}, Membership{}, false, err
	}
	return u, m, created, nil
}

// newUserHash checks the fields of a new user and hashes the password. It runs
// before the transaction: argon2id takes tens of milliseconds, and the writer
// lock should not wait for it.
func newUserHash(email, name, password string) (string, error) {
	if err := validateEmail(email); err != nil {
		return "", err
	} else if name == "" {
		return "", FieldError("name", "A name is required.")
	}
	return HashPassword(password)
}

func createUser(ctx context.Context, tx *Tx, email, name, hash string) (User, error) {
	if _, err := findUserByEmail(ctx, tx, email); err == nil {
		return User{}, &Error{Code: ECONFLICT, Field: "email", Message: fmt.Sprintf("A user with email %s exists already.", email)}
	} else if ErrorCode(err) != ENOTFOUND {
		return User{}, err
	}
	u := User{Email: email, Name: name, PasswordHash: hash, CreatedAt: tx.Now()}
	res, err := tx.ExecContext(ctx, `INSERT INTO users (email, name, password_hash, created_at) VALUES (?, ?, ?, ?)`,
		u.Email, u.Name, u.PasswordHash, formatInstant(u.CreatedAt))
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

func validateEmail(email string) error {
	if email == "" {
		return FieldError("email", "An email is required.")
	} else if len(email) > MaxEmailLength {
		return FieldError("email", "An email has at most %d characters.", MaxEmailLength)
	}
	// A bare address only: no display name, nothing mail.ParseAddress would rewrite.
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return FieldError("email", "%q is not an email address.", email)
	}
	return nil
}

// FindUserByEmail returns the user with that email (in any case), or an ENOTFOUND error.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := db.view(ctx, func(tx *Tx) (err error) {
		u, err = findUserByEmail(ctx, tx, NormalizeEmail(email))
		return err
	})
	return u, err
}

// FindUserByID returns the user with that id, or an ENOTFOUND error.
func (db *DB) FindUserByID(ctx context.Context, id int64) (User, error) {
	var u User
	err := db.view(ctx, func(tx *Tx) (err error) {
		u, err = findUserByID(ctx, tx, id)
		return err
	})
	return u, err
}

// Authenticate returns the user whose email and password these are. A wrong
// password and an unknown email give the same EUNAUTHORIZED error, after the same
// work: an unknown email is checked against DummyPasswordHash.
func (db *DB) Authenticate(ctx context.Context, email, password string) (User, error) {
	u, err := db.FindUserByEmail(ctx, email)
	hash := u.PasswordHash
	if ErrorCode(err) == ENOTFOUND {
		hash = DummyPasswordHash
	} else if err != nil {
		return User{}, err
	}
	if !CheckPassword(hash, password) || u.ID == 0 {
		return User{}, errBadCredentials
	}
	return u, nil
}

// AddMembership makes the user with email a member of the account with code, in
// role; a member already gets the new role. It returns an ENOTFOUND error for an
// unknown user or account, and an EINVALID error for an unknown role.
func (db *DB) AddMembership(ctx context.Context, email, accountCode string, role Role) (Membership, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return Membership{}, err
	}
	var m Membership
	err := db.update(ctx, func(tx *Tx) error {
		u, err := findUserByEmail(ctx, tx, NormalizeEmail(email))
		if err != nil {
			return err
		}
		m, err = addMembership(ctx, tx, u.ID, accountCode, role)
		return err
	})
	return m, err
}

func addMembership(ctx context.Context, tx *Tx, userID int64, accountCode string, role Role) (Membership, error) {
	a, err := findMemberAccountByCode(ctx, tx, accountCode)
	if err != nil {
		return Membership{}, err
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO memberships (user_id, account_id, role) VALUES (?, ?, ?)
		ON CONFLICT (user_id, account_id) DO UPDATE SET role = excluded.role`,
		userID, a.ID, string(role)); err != nil {
		return Membership{}, fmt.Errorf("store: add membership: %w", err)
	}
	return Membership{Account: a, Role: role}, nil
}

// Memberships returns the accounts the user belongs to, with the role in each,
// in order of account name. A user of no account gets an empty list.
func (db *DB) Memberships(ctx context.Context, userID int64) ([]Membership, error) {
	var ms []Membership
	err := db.view(ctx, func(tx *Tx) (err error) {
		ms, err = findMemberships(ctx, tx, userID)
		return err
	})
	return ms, err
}

// FindMembership returns the user's membership of the account with code. An
// account the user does not belong to answers ENOTFOUND, exactly as a missing
// code does, so the answer never tells which accounts exist.
func (db *DB) FindMembership(ctx context.Context, userID int64, accountCode string) (Membership, error) {
	var m Membership
	err := db.view(ctx, func(tx *Tx) error {
		ms, err := findMemberships(ctx, tx, userID)
		if err != nil {
			return err
		}
		for _, x := range ms {
			if x.Account.Code == accountCode {
				m = x
				return nil
			}
		}
		return Errorf(ENOTFOUND, "There is no account %s.", accountCode)
	})
	return m, err
}

const userColumns = `id, email, name, password_hash, created_at`

func findUserByEmail(ctx context.Context, tx *Tx, email string) (User, error) {
	return scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
}

func findUserByID(ctx context.Context, tx *Tx, id int64) (User, error) {
	return scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

func scanUser(row *sql.Row) (User, error) {
	var u User
	var created string
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, Errorf(ENOTFOUND, "There is no such user.")
	} else if err != nil {
		return User{}, fmt.Errorf("store: find user: %w", err)
	}
	if u.CreatedAt, err = parseInstant(created); err != nil {
		return User{}, fmt.Errorf("store: user %d created_at: %w", u.ID, err)
	}
	return u, nil
}

// memberAccountColumns are the account columns a membership carries; the query
// aliases the accounts table as a.
const memberAccountColumns = `a.id, a.code, a.name, a.currency, a.timezone, a.topup_balance, a.uncovered`

func findMemberships(ctx context.Context, tx *Tx, userID int64) ([]Membership, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT `+memberAccountColumns+`, m.role
		FROM memberships m JOIN accounts a ON a.id = m.account_id
		WHERE m.user_id = ?
		ORDER BY a.name, a.code`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: find memberships: %w", err)
	}
	defer rows.Close()
	var ms []Membership
	for rows.Next() {
		var m Membership
		a := &m.Account
		if err := rows.Scan(&a.ID, &a.Code, &a.Name, &a.Currency, &a.TimeZone, &a.TopupBalance.Minor, &a.Uncovered.Minor, &m.Role); err != nil {
			return nil, fmt.Errorf("store: find memberships: %w", err)
		}
		a.TopupBalance.Currency, a.Uncovered.Currency = a.Currency, a.Currency
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: find memberships: %w", err)
	}
	return ms, nil
}

// findMemberAccountByCode returns the account with code, or ENOTFOUND. It is
// named for this file so that it does not collide with the account queries of
// the importer.
func findMemberAccountByCode(ctx context.Context, tx *Tx, code string) (Account, error) {
	var a Account
	err := tx.QueryRowContext(ctx, `SELECT `+memberAccountColumns+` FROM accounts a WHERE a.code = ?`, code).
		Scan(&a.ID, &a.Code, &a.Name, &a.Currency, &a.TimeZone, &a.TopupBalance.Minor, &a.Uncovered.Minor)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, Errorf(ENOTFOUND, "There is no account %s.", code)
	} else if err != nil {
		return Account{}, fmt.Errorf("store: find account %s: %w", code, err)
	}
	a.TopupBalance.Currency, a.Uncovered.Currency = a.Currency, a.Currency
	return a, nil
}
