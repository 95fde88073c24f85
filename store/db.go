package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"

	"github.com/billingplans/billingplans/store/cache"
)

// driverName is mattn/go-sqlite3 with the settings the DSN cannot carry.
const driverName = "sqlite3_billingplans"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		// The writer copies the WAL back into the database itself only when
		// the checkpointer (see checkpoints) has fallen this far behind.
		_, err := c.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walFallbackPages), nil)
		return err
	}})
}

// The WAL is copied back into the database file (checkpointed) by a goroutine
// of its own, every checkpointEvery, instead of by whichever write's commit
// finds 1,000 pages in it, SQLite's default: on a database of gigabytes that
// took a tenth of every usage batch's time, and a payment committed at the
// wrong moment waited for it. A passive checkpoint blocks neither readers nor
// the writer.
const (
	checkpointEvery  = 500 * time.Millisecond
	walFallbackPages = 20000
)

//go:embed migration/*.sql
var migrations embed.FS

// DB is the billing store: one SQLite file, opened twice. Reads go through a pool
// of ordinary connections that run side by side under WAL; writes go through a
// single connection whose transactions begin IMMEDIATE, so writers queue for the
// lock instead of failing half-way with "database is locked".
type DB struct {
	// Path is the database file.
	Path string
	// Now is the clock, read once per transaction. Tests replace it.
	Now func() time.Time

	read  *sql.DB
	write *sql.DB

	// summaries caches PlanSummary per account, for one day (see there).
	summaries sync.Map
	// historyPlans caches, per account, the plans with lines that the credit
	// history reads (see historyQuery.plansWithLines).
	historyPlans sync.Map
	// overviews caches, per account, the plan part of the billing overview
	// (see overviewPlans).
	overviews sync.Map
	// planPages caches the plan list's pages (see FindPlans).
	planPages *cache.Versioned[planPageKey, PlanPage]

	// checkpointer is the connection the WAL is checkpointed on; closing
	// stop ends the goroutine, which closes done. walFrames and
	// walCheckpointed are what the last checkpoint found in the WAL and
	// copied back, in pages.
	checkpointer               *sql.DB
	stop, done                 chan struct{}
	walFrames, walCheckpointed atomic.Int64
}

// Tx is a transaction with the instant it began, so that every rule applied in
// it sees the same "now".
type Tx struct {
	*sql.Tx
	db  *DB
	now time.Time
	// summaryChanges are the plan changes made in the transaction that the
	// cached summary cards move by once it commits (see changePlan).
	summaryChanges []summaryChange
}

// Open opens (creating when needed) the database at path and applies the
// migrations it has not seen. It returns an error when the file cannot be opened
// or a migration fails.
func Open(path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", dir, err)
		}
	}
	// Settings live in the DSN so that every pooled connection has them. Each
	// connection keeps its 128 most recent prepared statements: the pages run
	// the same few queries, and preparing one cost a tenth of the plan list's
	// CPU time.
	dsn := "file:" + path + "?_journal_mode=WAL&_foreign_keys=on&_busy_timeout=10000&_synchronous=NORMAL&_cache_size=-32000&_stmt_cache_size=128"
	db := &DB{Path: path, Now: time.Now, planPages: newPlanPageCache()}
	var err error
	if db.write, err = sql.Open(driverName, dsn+"&_txlock=immediate"); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	// Readers get a smaller page cache each: there are several of them, and
	// the operating system caches the file for all.
	readDSN := strings.Replace(dsn, "_cache_size=-32000", "_cache_size=-8000", 1)
	if db.read, err = sql.Open(driverName, readDSN); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.read.SetMaxOpenConns(4)
	db.read.SetMaxIdleConns(4)
	if db.checkpointer, err = sql.Open(driverName, readDSN); err != nil {
		db.write.Close()
		db.read.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.checkpointer.SetMaxOpenConns(1)
	db.stop, db.done = make(chan struct{}), make(chan struct{})
	go db.checkpoints()
	if err := db.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// checkpoints copies the WAL back into the database file every
// checkpointEvery until db.stop is closed. A failed checkpoint is tried again
// at the next tick; the writer's fallback keeps the WAL bounded meanwhile.
func (db *DB) checkpoints() {
	defer close(db.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-tick.C:
			var busy, frames, copied int64
			if err := db.checkpointer.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err == nil {
				db.walFrames.Store(frames)
				db.walCheckpointed.Store(copied)
			}
		}
	}
}

func (db *DB) migrate() error {
	sub, err := fs.Sub(migrations, "migration")
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, sub)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(context.Background()); err != nil {
		return fmt.Errorf("store: migrate %s: %w", db.Path, err)
	}
	return nil
}

// Close closes both connection pools.
func (db *DB) Close() error {
	close(db.stop)
	<-db.done
	err := db.checkpointer.Close()
	if err2 := db.write.Close(); err == nil {
		err = err2
	}
	if err2 := db.read.Close(); err == nil {
		err = err2
	}
	return err
}

// BeginTx starts a transaction: a writing one (IMMEDIATE, on the single writer
// connection) when write is true, a reading one otherwise.
func (db *DB) BeginTx(ctx context.Context, write bool) (*Tx, error) {
	pool := db.read
	if write {
		pool = db.write
	}
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	return &Tx{Tx: tx, db: db, now: db.Now().UTC()}, nil
}

// Now returns the instant the transaction began.
func (tx *Tx) Now() time.Time { return tx.now }

// view runs fn in a reading transaction.
func (db *DB) view(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.BeginTx(ctx, false)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// update runs fn in a writing transaction and commits when fn returns nil.
func (db *DB) update(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.BeginTx(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	for _, c := range tx.summaryChanges {
		db.advanceSummary(c)
	}
	return nil
}

// Ping reports whether the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}
