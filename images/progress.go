package images

// Progress reports long work: Done of Total bytes in a phase such as
// "import" or "export". Skipped counts bytes that needed no work (chunks
// already stored, holes).
type Progress struct {
	Phase   string
	Done    int64
	Total   int64
	Skipped int64
	// Items says Done and Total count things (blobs checked), not bytes.
	Items bool
}

// ProgressFunc receives progress reports; it must return quickly. It may be
// nil.
type ProgressFunc func(Progress)

func (f ProgressFunc) report(p Progress) {
	if f != nil {
		f(p)
	}
}
