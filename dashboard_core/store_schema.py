"""The store's schema: one SQL script per version, numbered by ``PRAGMA user_version``.

:class:`~dashboard_core.store.Store` runs the scripts a file has not had yet, in
order, when it opens it. Never edit a script that has shipped: append a new one
(an older file is brought up to date by it, a newer one is refused).
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: test runs and their cases
    """
    CREATE TABLE test_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        suite TEXT NOT NULL,
        trigger TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        queued_at REAL NOT NULL,
        started_at REAL,
        ended_at REAL,
        updated_at REAL,
        exit_code INTEGER,
        collected INTEGER,
        done INTEGER NOT NULL DEFAULT 0,
        passed INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        xfailed INTEGER NOT NULL DEFAULT 0,
        xpassed INTEGER NOT NULL DEFAULT 0,
        argv TEXT NOT NULL DEFAULT '[]',
        rootdir TEXT,
        log_path TEXT,
        rerun_of INTEGER REFERENCES test_runs(id) ON DELETE SET NULL,
        selection TEXT,
        pid INTEGER,
        pid_created REAL
    );
    CREATE INDEX test_runs_by_suite ON test_runs (suite, id DESC);
    CREATE INDEX test_runs_by_status ON test_runs (status);
    CREATE TABLE test_cases (
        run_id INTEGER NOT NULL REFERENCES test_runs(id) ON DELETE CASCADE,
        nodeid TEXT NOT NULL,
        outcome TEXT NOT NULL,
        duration REAL NOT NULL DEFAULT 0,
        message TEXT,
        traceback TEXT,
        PRIMARY KEY (run_id, nodeid)
    );
    CREATE INDEX test_cases_by_nodeid ON test_cases (nodeid, run_id);
    """,
    # 2: events, component checks, agents, alerts
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        source TEXT NOT NULL,
        message TEXT NOT NULL,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_by_time ON events (at);
    CREATE TABLE health_checks (
        component TEXT NOT NULL,
        at REAL NOT NULL,
        ok INTEGER NOT NULL,
        latency_ms REAL,
        state TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX health_checks_by_component ON health_checks (component, at);
    CREATE TABLE agents (
        name TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        status TEXT,
        role TEXT,
        task TEXT,
        metrics TEXT NOT NULL DEFAULT '{}',
        first_seen REAL,
        last_seen REAL
    );
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL,
        state TEXT NOT NULL,
        began_at REAL NOT NULL,
        fired_at REAL,
        ended_at REAL,
        min REAL,
        max REAL,
        mean REAL,
        message TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX alerts_by_rule ON alerts (rule, id DESC);
    """,
    # 3: workflow runs and their steps
    """
    CREATE TABLE workflow_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        workflow TEXT NOT NULL,
        trigger TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        started_at REAL NOT NULL,
        ended_at REAL,
        updated_at REAL
    );
    CREATE INDEX workflow_runs_by_workflow ON workflow_runs (workflow, id DESC);
    CREATE INDEX workflow_runs_by_status ON workflow_runs (status);
    CREATE TABLE workflow_steps (
        run_id INTEGER NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
        step TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        exit_code INTEGER,
        started_at REAL,
        ended_at REAL,
        restarts INTEGER NOT NULL DEFAULT 0,
        log_path TEXT,
        pid INTEGER,
        pid_created REAL,
        PRIMARY KEY (run_id, step)
    );
    """,
    # 4: long metric history: the column names of packed rows. Each tier's table
    # (metric_history_10s, ...) is made by dashboard_core.metrics.history_store
    # when first used, since the tiers come from the config.
    """
    CREATE TABLE metric_layouts (
        id INTEGER PRIMARY KEY,
        columns TEXT NOT NULL UNIQUE
    );
    """,
    # 5: login sessions (a cookie names one by a random id; the SHA-256 of that id is
    # kept, so a copy of the file cannot be turned into cookies), and the identity
    # cookies (Streamlit's, after a login with an OIDC provider) that logged out
    """
    CREATE TABLE login_sessions (
        id_sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        password TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE INDEX login_sessions_by_expiry ON login_sessions (expires_at);
    CREATE TABLE ended_identities (
        cookie_sha256 TEXT PRIMARY KEY,
        expires_at REAL NOT NULL
    );
    """,
    # 6: the order test cases ran in (rows saved while a run goes on arrive in any order).
    # Older runs have none: they read back in the order their rows were written.
    """
    ALTER TABLE test_cases ADD COLUMN ordinal INTEGER;
    """,
    # 7: annotations (a person's or a CI job's note on the time axis: a point if end_at is
    # NULL, else a span), and the indexes the time axis' marks read a window through
    # (events of one kind in a window; runs, alerts and annotations by when they end)
    """
    CREATE TABLE annotations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        start_at REAL NOT NULL,
        end_at REAL,
        text TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '[]',
        author TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX annotations_by_start ON annotations (start_at);
    CREATE INDEX annotations_by_end ON annotations (COALESCE(end_at, start_at));
    CREATE INDEX events_by_kind_time ON events (kind, at);
    CREATE INDEX test_runs_by_end ON test_runs (ended_at);
    CREATE INDEX workflow_runs_by_end ON workflow_runs (ended_at);
    CREATE INDEX alerts_by_end ON alerts (ended_at);
    """,
    # 8: process snapshots: the top processes of each process-table scan, a batch of
    # consecutive scans per row, packed and compressed (dashboard_core.metrics.snapshot_codec)
    """
    CREATE TABLE process_snapshots (
        ts INTEGER PRIMARY KEY,
        last_ts INTEGER NOT NULL,
        scans INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    """,
    # 9: each run's process tree over time (CPU, resident memory, processes), packed
    # samples in chunks (dashboard_core.processes.resource_log). A row is a test run's
    # or a workflow step's, and goes with it. Older runs have none.
    """
    CREATE TABLE run_resources (
        test_run_id INTEGER REFERENCES test_runs(id) ON DELETE CASCADE,
        workflow_run_id INTEGER,
        step TEXT,
        first_at REAL NOT NULL,
        samples BLOB NOT NULL,
        FOREIGN KEY (workflow_run_id, step) REFERENCES workflow_steps(run_id, step) ON DELETE CASCADE,
        CHECK ((test_run_id IS NULL) <> (workflow_run_id IS NULL))
    );
    CREATE INDEX run_resources_by_test_run ON run_resources (test_run_id, first_at) WHERE test_run_id IS NOT NULL;
    CREATE INDEX run_resources_by_workflow_run ON run_resources (workflow_run_id, step, first_at)
        WHERE workflow_run_id IS NOT NULL;
    """,
    # 10: what each test cost, measured by the pytest plugin in the process that ran it
    # (dashboard_core.testing.plugin_meter): CPU seconds, the process's peak resident
    # memory while the test ran, and when its setup started. NULL for command suites
    # (JUnit has none of it) and for the runs from before.
    """
    ALTER TABLE test_cases ADD COLUMN cpu_user_seconds REAL;
    ALTER TABLE test_cases ADD COLUMN cpu_system_seconds REAL;
    ALTER TABLE test_cases ADD COLUMN peak_rss_bytes INTEGER;
    ALTER TABLE test_cases ADD COLUMN started_at REAL;
    """,
    # 11: what a test run ran in: the suite's Python and installed packages (each distinct
    # set stored once, named by the SHA-256 of its JSON, so a thousand runs in one venv
    # share one row), and the git commit of the suite's folder at the run's start
    # (dashboard_core.testing.environment). Older runs, and suites that are no repository, have none.
    """
    CREATE TABLE test_environments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sha256 TEXT NOT NULL UNIQUE,
        python TEXT,
        executable TEXT,
        packages TEXT NOT NULL DEFAULT '{}'
    );
    ALTER TABLE test_runs ADD COLUMN environment_id INTEGER REFERENCES test_environments(id);
    ALTER TABLE test_runs ADD COLUMN git_commit TEXT;
    ALTER TABLE test_runs ADD COLUMN git_dirty INTEGER;
    """,
    # 12: flaky verdicts and quarantine. retries: the times pytest-rerunfailures re-ran a test
    # within its run; quarantined: the test was in quarantine when its run's verdict was made
    # (its failure did not fail the run). test_quarantine: a suite's tests in quarantine now,
    # with who put them there, when and why (dashboard_core.testing.quarantine).
    """
    ALTER TABLE test_cases ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE test_cases ADD COLUMN quarantined INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE test_quarantine (
        suite TEXT NOT NULL,
        nodeid TEXT NOT NULL,
        reason TEXT NOT NULL,
        who TEXT NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (suite, nodeid)
    );
    """,
    # 13: a test's subtests, as JSON (a list of SubtestInfo), NULL for a test without any; the
    # indexes a page of a large run's cases is read through (failures first, or by duration)
    """
    ALTER TABLE test_cases ADD COLUMN subtests TEXT;
    CREATE INDEX test_cases_by_run_outcome ON test_cases (run_id, outcome, ordinal, duration);
    """,
    # 14: the event rules over test results (dashboard_core.testing.findings). regressions: the
    # tests the regression watch judged a regression in the run, as a JSON list ('[]': none),
    # NULL until it judged the run; alerts.run_id: the test run a suite rule's alert is about.
    """
    ALTER TABLE test_runs ADD COLUMN regressions TEXT;
    ALTER TABLE alerts ADD COLUMN run_id INTEGER;
    """,
    # 15: silences (label matchers over the alerts' labels, a start and an end, who and why;
    # expiring one early sets ends_at and expired_by; alertmanager_id: its copy there), and on
    # each alert: the silence or maintenance window that kept it quiet (a Mute as JSON),
    # whether anyone was told it fired (0: it fired muted and nobody has been told yet), and
    # its acknowledgement (dashboard_core.health.silences, dashboard_core.health.alert_quiet).
    """
    CREATE TABLE silences (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        matchers TEXT NOT NULL,
        starts_at REAL NOT NULL,
        ends_at REAL NOT NULL,
        created_by TEXT NOT NULL,
        comment TEXT NOT NULL,
        created_at REAL NOT NULL,
        expired_by TEXT,
        alertmanager_id TEXT
    );
    CREATE INDEX silences_by_end ON silences (ends_at);
    ALTER TABLE alerts ADD COLUMN muted TEXT;
    ALTER TABLE alerts ADD COLUMN notified INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE alerts ADD COLUMN ack_by TEXT;
    ALTER TABLE alerts ADD COLUMN ack_at REAL;
    ALTER TABLE alerts ADD COLUMN ack_note TEXT;
    """,
    # 16: one-off maintenance windows an operator planned over the API (those of dashboard.toml
    # are not stored): what each covers as JSON lists of names, its span (epoch seconds), who
    # made it and when (dashboard_core.health.maintenance_store).
    """
    CREATE TABLE maintenance_windows (
        name TEXT PRIMARY KEY,
        description TEXT NOT NULL DEFAULT '',
        components TEXT NOT NULL DEFAULT '[]',
        agents TEXT NOT NULL DEFAULT '[]',
        rules TEXT NOT NULL DEFAULT '[]',
        start REAL NOT NULL,
        end REAL NOT NULL,
        exclude_from_uptime INTEGER NOT NULL DEFAULT 1,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # 17: what an executor whose processes are not local pids calls a run's process (a Ray
    # job's submission id, ProcessRecord.ref): a restarted dashboard follows the job again by it
    """
    ALTER TABLE test_runs ADD COLUMN process_ref TEXT;
    """,
    # 18: the runs on Ray, newest first, for the Overview's Cluster part (its jobs): without it
    # that read walks every local run too
    """
    CREATE INDEX test_runs_on_ray ON test_runs (id DESC) WHERE process_ref IS NOT NULL;
    """,
    # 19: a workflow step's process when it is not a local pid (a Ray job's submission id,
    # ProcessRecord.ref): a restarted dashboard follows the step's job again by it
    """
    ALTER TABLE workflow_steps ADD COLUMN process_ref TEXT;
    """,
    # 20: the workflow steps on Ray, for the Overview's Cluster part (as 18 for the test runs)
    """
    CREATE INDEX workflow_steps_on_ray ON workflow_steps (run_id DESC) WHERE process_ref IS NOT NULL;
    """,
]
