package workspaces

import (
	"context"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// User is a person with a login.
type User struct {
	ID        UserID
	Email     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits on user input.
const (
	maxEmailLen    = 254
	maxPasswordLen = 1024
)

// NormalizeEmail trims and lowercases an email address, so logins do not
// depend on case.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

func validateEmail(email string) error {
	at := strings.IndexByte(email, '@')
	if len(email) > maxEmailLen || at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t\r\n") || !isText(email) {
		return E(KindInvalid, "Invalid email address")
	}
	return nil
}

func validatePassword(password string) error {
	if len(password) > maxPasswordLen {
		return E(KindInvalid, "Password is too long (at most 1024 bytes)")
	}
	return nil
}

// Register creates a user. The email is stored normalized; the password only
// as an argon2id hash.
func (s *Service) Register(ctx context.Context, email, password string) (User, error) {
	email = NormalizeEmail(email)
	if err := validateEmail(email); err != nil {
		return User{}, err
	}
	if err := validatePassword(password); err != nil {
		return User{}, err
	}
	exists, err := s.db.NewSelect().Model((*sqldb.User)(nil)).Where("email = ?", email).Exists(ctx)
	if err != nil {
		return User{}, Internal("check email", err)
	}
	if exists {
		return User{}, E(KindConflict, "User already exists")
	}
	now := s.now()
	row := &sqldb.User{ID: NewID(), Email: email, PasswordHash: s.hasher.hash(password), CreatedAt: now, UpdatedAt: now}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		if sqldb.IsUniqueViolation(err) {
			return User{}, E(KindConflict, "User already exists")
		}
		return User{}, Internal("insert user", err)
	}
	return userFromRow(row), nil
}

// Authenticate returns the user with email if password is theirs.
func (s *Service) Authenticate(ctx context.Context, email, password string) (User, error) {
	row, err := s.userByEmail(ctx, NormalizeEmail(email))
	if err != nil {
		return User{}, err
	}
	ok, err := s.hasher.verify(row.PasswordHash, password)
	if err != nil {
		return User{}, Internal("verify password", err)
	}
	if !ok {
		return User{}, E(KindUnauthenticated, "Incorrect password.")
	}
	return userFromRow(row), nil
}

// User returns the user with id.
func (s *Service) User(ctx context.Context, id UserID) (User, error) {
	if !ValidID(string(id)) {
		return User{}, E(KindNotFound, "User not found")
	}
	var row sqldb.User
	if err := s.db.NewSelect().Model(&row).Where("id = ?", string(id)).Scan(ctx); err != nil {
		if sqldb.IsNoRows(err) {
			return User{}, E(KindNotFound, "User not found")
		}
		return User{}, Internal("get user", err)
	}
	return userFromRow(&row), nil
}

// Author returns user id as User does, reusing a user it read within
// KeyCacheTTL: for hot paths that only show who someone is (the author of
// each chat message). UpdateUser refreshes it on this node.
func (s *Service) Author(ctx context.Context, id UserID) (User, error) {
	if c, ok := s.users.Load(id); ok && time.Since(c.(cachedUser).at) < s.cfg.KeyCacheTTL {
		return c.(cachedUser).user, nil
	}
	u, err := s.User(ctx, id)
	if err == nil && s.cfg.KeyCacheTTL > 0 {
		s.users.Store(id, cachedUser{user: u, at: time.Now()})
	}
	return u, err
}

// cachedUser is a user Author read, and when.
type cachedUser struct {
	user User
	at   time.Time
}

// UserUpdate holds the settings to change; nil fields stay as they are.
type UserUpdate struct {
	Email    *string
	Password *string
}

// UpdateUser changes the settings of user id.
func (s *Service) UpdateUser(ctx context.Context, id UserID, u UserUpdate) (User, error) {
	defer s.users.Delete(id)
	var row sqldb.User
	if err := s.db.NewSelect().Model(&row).Where("id = ?", string(id)).Scan(ctx); err != nil {
		if sqldb.IsNoRows(err) {
			return User{}, E(KindNotFound, "User not found")
		}
		return User{}, Internal("get user", err)
	}
	cols := []string{"updated_at"}
	if u.Email != nil {
		email := NormalizeEmail(*u.Email)
		if err := validateEmail(email); err != nil {
			return User{}, err
		}
		if email != row.Email {
			row.Email = email
			cols = append(cols, "email")
		}
	}
	if u.Password != nil {
		if err := validatePassword(*u.Password); err != nil {
			return User{}, err
		}
		if *u.Password == "" {
			return User{}, E(KindInvalid, "Password must not be empty")
		}
		row.PasswordHash = s.hasher.hash(*u.Password)
		cols = append(cols, "password_hash")
	}
	row.UpdatedAt = s.now()
	if _, err := s.db.NewUpdate().Model(&row).Column(cols...).WherePK().Exec(ctx); err != nil {
		if sqldb.IsUniqueViolation(err) {
			return User{}, E(KindConflict, "User already exists")
		}
		return User{}, Internal("update user", err)
	}
	return userFromRow(&row), nil
}

func (s *Service) userByEmail(ctx context.Context, email string) (*sqldb.User, error) {
	if !isText(email) {
		return nil, E(KindNotFound, "User not found")
	}
	var row sqldb.User
	if err := s.db.NewSelect().Model(&row).Where("email = ?", email).Scan(ctx); err != nil {
		if sqldb.IsNoRows(err) {
			return nil, E(KindNotFound, "User not found")
		}
		return nil, Internal("get user by email", err)
	}
	return &row, nil
}

func userFromRow(r *sqldb.User) User {
	return User{ID: UserID(r.ID), Email: r.Email, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}
