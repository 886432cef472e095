package l4smooth

import (
	"errors"
	"net"
	"reflect"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// A UDP session of caddy-l4 v0.1.2 (layer4.packetConn) reports its end, once or twice, on
// its server loop's report channel (closeCh), which holds 10. The loop stops when its
// socket is closed, which a config load does to every UDP listener of the config it
// replaces; the sessions of that config still open end later (idle timeout, or cut), and
// once the channel is full each blocks forever in that report, with its buffers (and, at
// an idle timeout, its socket towards the backend). So the module receives, and drops,
// the reports of the loops whose socket is closed until the sessions it selected for them
// are garbage. caddy-l4 keeps the channel unexported: it is read from the session's
// fields (closeCh, PacketConn), whose names and types the data-plane test of package emit
// (TestDataPlaneUDPSessionsOfOldConfigsEnd) pins; a session of another shape is not
// watched.

// udpLoop is a server loop of a UDP socket that sessions this module selected for report
// to.
type udpLoop struct {
	// socket is the listener socket the loop reads.
	socket net.PacketConn
	// sessions counts the loop's sessions not yet garbage.
	sessions int
	// draining is set once socket is closed: the loop has stopped (or is about to, after
	// the datagrams it read before) and its reports are drained.
	draining bool
}

// loops holds the server loops of the sessions selected, by report channel.
var loops = struct {
	mu sync.Mutex
	by map[chan string]*udpLoop
	// drainer is set while the goroutine that drains the reports of stopped loops runs.
	drainer bool
	// wake tells the drainer that the loops to drain changed.
	wake chan struct{}
}{by: map[chan string]*udpLoop{}, wake: make(chan struct{}, 1)}

// udpSession returns the report channel and the listener socket of conn when it is a UDP
// session of caddy-l4 (layer4.packetConn), and the pointer to that session.
func udpSession(conn net.Conn) (closeCh chan string, socket net.PacketConn, session unsafe.Pointer, ok bool) {
	v := reflect.ValueOf(conn)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, nil, nil, false
	}
	if t := v.Type().Elem(); t.Name() != "packetConn" || t.PkgPath() != "github.com/mholt/caddy-l4/layer4" {
		return nil, nil, nil, false
	}
	ch, okCh := unexported(v.Elem(), "closeCh").(chan string)
	pc, okPC := unexported(v.Elem(), "PacketConn").(net.PacketConn)
	if !okCh || !okPC || ch == nil || pc == nil {
		return nil, nil, nil, false
	}
	return ch, pc, v.UnsafePointer(), true
}

// unexported returns the value of field name of the addressable struct s, nil when it
// has none.
func unexported(s reflect.Value, name string) any {
	f := s.FieldByName(name)
	if !f.IsValid() {
		return nil
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface()
}

// watchSession records conn, when it is a UDP session, among its loop's sessions until
// it is garbage; a loop whose socket is already closed is drained at once.
func watchSession(conn net.Conn) {
	ch, socket, session, ok := udpSession(conn)
	if !ok {
		return
	}
	loops.mu.Lock()
	l := loops.by[ch]
	if l == nil {
		l = &udpLoop{socket: socket}
		loops.by[ch] = l
	}
	l.sessions++
	if !l.draining && closed(l.socket) {
		l.draining = true
		startDrainerLocked()
	}
	loops.mu.Unlock()
	runtime.AddCleanup((*byte)(session), sessionGone, ch)
}

// sessionGone forgets a session of the loop of ch; the loop goes with its last one.
func sessionGone(ch chan string) {
	loops.mu.Lock()
	defer loops.mu.Unlock()
	l := loops.by[ch]
	if l == nil {
		return
	}
	if l.sessions--; l.sessions > 0 {
		return
	}
	delete(loops.by, ch)
	if l.draining {
		wakeDrainerLocked()
	}
}

// drainStoppedLoops drains the reports of the loops whose socket is closed. A config
// load closes the sockets of the config it replaces before it cleans up its modules. A
// loop may still hand out the few datagrams it read before its socket closed: a report
// drained then leaves its session in the loop's table, whose next datagrams for that
// client are dropped, and would block the loop, which ends anyway, only at the sixth.
func drainStoppedLoops() {
	loops.mu.Lock()
	defer loops.mu.Unlock()
	changed := false
	for _, l := range loops.by {
		if !l.draining && closed(l.socket) {
			l.draining, changed = true, true
		}
	}
	if changed {
		startDrainerLocked()
	}
}

// closed reports whether socket is closed. Clearing its read deadline changes nothing
// for its loop, which never sets one.
func closed(socket net.PacketConn) bool {
	return errors.Is(socket.SetReadDeadline(time.Time{}), net.ErrClosed)
}

func startDrainerLocked() {
	if loops.drainer {
		wakeDrainerLocked()
		return
	}
	loops.drainer = true
	go drain()
}

func wakeDrainerLocked() {
	select {
	case loops.wake <- struct{}{}:
	default:
	}
}

// drain receives and drops the reports of the draining loops, until there are none.
func drain() {
	for {
		cases := drainCases()
		if cases == nil {
			return
		}
		_, _, _ = reflect.Select(cases)
	}
}

// drainCases returns the cases of the wake channel and the draining loops' channels, or
// nil (and the drainer stops) when no loop drains.
func drainCases() []reflect.SelectCase {
	loops.mu.Lock()
	defer loops.mu.Unlock()
	cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(loops.wake)}}
	for ch, l := range loops.by {
		if l.draining {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
	}
	if len(cases) == 1 {
		loops.drainer = false
		return nil
	}
	return cases
}

// Draining returns the number of stopped UDP server loops whose sessions' reports are
// drained.
func Draining() int {
	loops.mu.Lock()
	defer loops.mu.Unlock()
	n := 0
	for _, l := range loops.by {
		if l.draining {
			n++
		}
	}
	return n
}
