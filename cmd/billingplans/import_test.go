package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billingplans/billingplans/store"
)

// importFixture returns the path of a file of store/testdata/import.
func importFixture(name string) string {
	return filepath.Join("..", "..", "store", "testdata", "import", name)
}

// MustCheapPasswords makes password hashes quick for the test and restores the
// real parameters after it.
func MustCheapPasswords(t *testing.T) {
	t.Helper()
	saved := store.PasswordParams
	store.PasswordParams.Memory, store.PasswordParams.Time, store.PasswordParams.Threads = 64, 1, 1
	t.Cleanup(func() { store.PasswordParams = saved })
}

func TestImportCommand(t *testing.T) {
	MustCheapPasswords(t)
	db := filepath.Join(t.TempDir(), "billing.db")

	t.Run("a good file prints a line per section", func(t *testing.T) {
		var out bytes.Buffer
		if err := run([]string{"import", "--db", db, importFixture("example.json")}, &out, &out); err != nil {
			t.Fatal(err)
		}
		want := "accounts: 1 added\n" +
			"users:    1 added, with 1 memberships\n" +
			"services: 1 added, with 1 packages\n" +
			"plans:    1 added, with 1 payments\n" +
			"vouchers: 1 added\n" +
			"topups:   1 added\n"
		if got := out.String(); got != want {
			t.Errorf("output:\n%s\nwant:\n%s", got, want)
		}
	})

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"the same file again names the duplicate code", []string{"--db", db, importFixture("example.json")},
			`import ../../store/testdata/import/example.json: accounts[0].code: "acme" already exists`},
		{"a bad file names the path of its bad value", []string{"--db", db, importFixture("bad-end-date.json")},
			`import ../../store/testdata/import/bad-end-date.json: plans[0].end_date: before start_date`},
		{"a file that is not there says so", []string{"--db", db, "no-such-file.json"},
			"import: open no-such-file.json: no such file or directory"},
		{"no file is a usage error", []string{"--db", db}, "import: give one FILE.json"},
		{"two files are a usage error", []string{"--db", db, "a.json", "b.json"}, "import: give one FILE.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runImport(tt.args, &out)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %s", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("printed %q on failure", out.String())
			}
		})
	}

	t.Run("a bad JSON file does not create the database", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.json")
		if err := os.WriteFile(bad, []byte("{\n  \"plans\": [\n    {\"code\": 1}\n  ]\n}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		fresh := filepath.Join(t.TempDir(), "fresh.db")
		err := runImport([]string{"--db", fresh, bad}, &bytes.Buffer{})
		if want := "import " + bad + ": plans[0].code: must be a string, not a number (write numbers as strings: \"150000000\")"; err == nil || err.Error() != want {
			t.Errorf("err = %v, want %s", err, want)
		}
		if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat %s: %v, want it not to exist", fresh, err)
		}
	})
}

// TestImportExitStatus runs the real main in a child process: a bad file makes
// the command print its error on stderr and exit 1.
func TestImportExitStatus(t *testing.T) {
	if args := os.Getenv("BILLINGPLANS_TEST_MAIN_ARGS"); args != "" {
		os.Args = append([]string{"billingplans"}, strings.Split(args, "\x1f")...)
		main()
		os.Exit(0)
	}
	bad := importFixture("bad-end-date.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestImportExitStatus$")
	cmd.Env = append(os.Environ(), "BILLINGPLANS_TEST_MAIN_ARGS="+strings.Join([]string{"import", "--db", filepath.Join(t.TempDir(), "billing.db"), bad}, "\x1f"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("err = %v, want exit status 1 (stderr %q)", err, stderr.String())
	}
	if want := "billingplans: import " + bad + ": plans[0].end_date: before start_date\n"; stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
}
