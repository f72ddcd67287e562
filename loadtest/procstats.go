package main

// Reading a process's memory and CPU time from /proc, and raising this
// process's file-descriptor limit.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports.
const clockTicks = 100

// rssKiB returns the resident set size (VmRSS) of process pid in KiB.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := bytes.Fields(v)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(string(f[0]), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// steadyRSS samples the RSS of pid every half second until four samples in
// a row lie within 512 KiB of each other (the Go runtime returns freed
// memory to the OS gradually), or for at most maxWait, and returns the
// last sample.
func steadyRSS(ctx context.Context, pid int, maxWait time.Duration) (int64, error) {
	deadline := time.Now().Add(maxWait)
	var last []int64
	for {
		rss, err := rssKiB(pid)
		if err != nil {
			return 0, err
		}
		last = append(last, rss)
		if len(last) > 4 {
			last = last[1:]
		}
		if len(last) == 4 && slices.Max(last)-slices.Min(last) <= 512 {
			return rss, nil
		}
		if time.Now().After(deadline) {
			return rss, nil
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return rss, ctx.Err()
		}
	}
}

// cpuTicks returns the user plus system CPU time of process pid, in clock
// ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after it
	// start at the last ')' with field 3, so utime (14) and stime (15) are
	// the 12th and 13th.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	u, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	s, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return u + s, nil
}

// cpuMeter measures a process's CPU use from the moment it is started.
type cpuMeter struct {
	pid   int
	start time.Time
	ticks int64
	ok    bool
}

func startCPU(pid int) cpuMeter {
	if pid <= 0 {
		return cpuMeter{}
	}
	t, err := cpuTicks(pid)
	return cpuMeter{pid: pid, start: time.Now(), ticks: t, ok: err == nil}
}

// percent is the CPU used since start, in percent of one core (200% is both
// cores of a two-core machine); -1 when unknown.
func (m cpuMeter) percent() float64 {
	if !m.ok {
		return -1
	}
	t, err := cpuTicks(m.pid)
	el := time.Since(m.start).Seconds()
	if err != nil || el <= 0 {
		return -1
	}
	return float64(t-m.ticks) / clockTicks / el * 100
}

// raiseFileLimit raises the soft limit on open files to the hard limit, so
// that thousands of connections fit, and returns the new soft limit.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}

// machineBusyTicks is the CPU time all processes used, from /proc/stat.
func machineBusyTicks() (int64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 6 || string(f[0]) != "cpu" {
		return 0, fmt.Errorf("malformed /proc/stat")
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed /proc/stat")
		}
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		busy += n
	}
	return busy, nil
}

// machineMeter measures the whole machine's CPU use from its start, so a
// report can tell how much other processes took from the measurement.
type machineMeter struct {
	start time.Time
	ticks int64
	ok    bool
}

func startMachineCPU() machineMeter {
	t, err := machineBusyTicks()
	return machineMeter{start: time.Now(), ticks: t, ok: err == nil}
}

// percent is the machine's CPU use since start in percent of one core;
// -1 when unknown.
func (m machineMeter) percent() float64 {
	if !m.ok {
		return -1
	}
	t, err := machineBusyTicks()
	el := time.Since(m.start).Seconds()
	if err != nil || el <= 0 {
		return -1
	}
	return float64(t-m.ticks) / clockTicks / el * 100
}
