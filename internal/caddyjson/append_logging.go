package caddyjson

func (w *writer) logging(l *Logging) {
	w.open()
	if len(l.Logs) > 0 {
		w.key("logs")
		writeMap(w, l.Logs, w.customLog)
	}
	w.close()
}

// customLog writes a log; nil is null.
func (w *writer) customLog(l *CustomLog) {
	if l == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.open()
	if l.Writer != nil {
		w.key("writer")
		w.open()
		w.key("output")
		w.str(l.Writer.Output)
		w.optStr("filename", l.Writer.Filename)
		w.close()
	}
	if l.Encoder != nil {
		w.key("encoder")
		w.open()
		w.key("format")
		w.str(l.Encoder.Format)
		w.close()
	}
	w.optStr("level", l.Level)
	w.optStrs("include", l.Include)
	w.optStrs("exclude", l.Exclude)
	w.close()
}
