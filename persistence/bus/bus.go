package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config says which NATS to use. The zero value starts an embedded server
// reachable only from this process, with JetStream in ./nats.
type Config struct {
	// URL of an external NATS server or cluster (NATS_URL). Empty starts an
	// embedded server.
	URL string
	// DataDir is where the embedded server keeps JetStream, in DataDir/nats.
	DataDir string
	// Listen, if set, is a host:port where the embedded server also accepts
	// clients, so other Atrium nodes can use it as their NATS_URL. Empty
	// means in-process connections only.
	Listen string
	// Name identifies this client to NATS. Empty means "atrium".
	Name string
	// ConnectTimeout bounds connecting and the first JetStream check. Zero
	// means 10 seconds.
	ConnectTimeout time.Duration
	// Logger receives the embedded server's log lines. Nil discards them.
	Logger *slog.Logger
}

// Bus is a connection to NATS with JetStream ready.
type Bus struct {
	Conn *nats.Conn
	JS   jetstream.JetStream
	// Where says which NATS this is, without credentials, for logs.
	Where string

	server *server.Server // nil when external
	closed chan struct{}  // closed by NATS when Conn is closed
}

// Start connects to NATS as cfg says, starting the embedded server first when
// cfg.URL is empty. It fails, rather than waits, when NATS cannot be reached
// or has no JetStream.
func Start(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.Name == "" {
		cfg.Name = "atrium"
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := &Bus{closed: make(chan struct{})}
	opts := []nats.Option{
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
		nats.Name(cfg.Name),
		nats.Timeout(cfg.ConnectTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
	}
	var url string
	if cfg.URL == "" {
		s, err := startEmbedded(cfg)
		if err != nil {
			return nil, err
		}
		b.server = s
		b.Where = "embedded"
		if cfg.Listen != "" {
			b.Where = "embedded, listening on " + s.ClientURL()
		}
		opts = append(opts, nats.InProcessServer(s))
	} else {
		url = cfg.URL
		b.Where = redact(cfg.URL)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		b.shutdownServer()
		return nil, fmt.Errorf("nats %s: connect: %w", b.Where, err)
	}
	b.Conn = nc
	js, err := jetstream.New(nc)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("nats %s: jetstream: %w", b.Where, err)
	}
	b.JS = js
	checkCtx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	if _, err := js.AccountInfo(checkCtx); err != nil {
		b.Close()
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return nil, fmt.Errorf("nats %s has no JetStream (start nats-server with -js)", b.Where)
		}
		return nil, fmt.Errorf("nats %s: jetstream check: %w", b.Where, err)
	}
	return b, nil
}

func startEmbedded(cfg Config) (*server.Server, error) {
	opts := &server.Options{
		ServerName: "atrium",
		JetStream:  true,
		StoreDir:   filepath.Join(cfg.DataDir, "nats"),
		NoSigs:     true,
		DontListen: cfg.Listen == "",
	}
	if cfg.Listen != "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("ATRIUM_NATS_LISTEN: %v", err)
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("ATRIUM_NATS_LISTEN: bad port %q", port)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		}
		opts.Host, opts.Port = host, p
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	s.SetLoggerV2(serverLogger{cfg.Logger.With("component", "nats")}, false, false, false)
	s.Start()
	if !s.ReadyForConnections(cfg.ConnectTimeout) {
		s.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready after %v (is %s free?)", cfg.ConnectTimeout, cfg.Listen)
	}
	return s, nil
}

// ClientURL returns the URL other nodes can use to reach the embedded server,
// or "" when it does not listen or NATS is external.
func (b *Bus) ClientURL() string {
	if b.server == nil || b.server.Addr() == nil {
		return ""
	}
	return b.server.ClientURL()
}

// Ping checks that NATS and JetStream answer.
func (b *Bus) Ping(ctx context.Context) error {
	if !b.Conn.IsConnected() {
		return fmt.Errorf("nats %s: %s", b.Where, b.Conn.Status())
	}
	if _, err := b.JS.AccountInfo(ctx); err != nil {
		return fmt.Errorf("nats %s: %w", b.Where, err)
	}
	return nil
}

// Close drains the connection and stops the embedded server, if any.
func (b *Bus) Close() error {
	var err error
	if b.Conn != nil {
		// Drain is asynchronous; wait for it so the server goes down last.
		if err = b.Conn.Drain(); err == nil {
			select {
			case <-b.closed:
			case <-time.After(5 * time.Second):
			}
		}
		b.Conn.Close()
	}
	b.shutdownServer()
	return err
}

func (b *Bus) shutdownServer() {
	if b.server != nil {
		b.server.Shutdown()
		b.server.WaitForShutdown()
	}
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(NATS_URL)"
	}
	return u.Scheme + "://" + u.Host
}

type serverLogger struct{ l *slog.Logger }

func (s serverLogger) Noticef(format string, v ...any) { s.l.Debug(fmt.Sprintf(format, v...)) }
func (s serverLogger) Warnf(format string, v ...any)   { s.l.Warn(fmt.Sprintf(format, v...)) }
func (s serverLogger) Fatalf(format string, v ...any)  { s.l.Error(fmt.Sprintf(format, v...)) }
func (s serverLogger) Errorf(format string, v ...any)  { s.l.Error(fmt.Sprintf(format, v...)) }
func (s serverLogger) Debugf(format string, v ...any)  {}
func (s serverLogger) Tracef(format string, v ...any)  {}
