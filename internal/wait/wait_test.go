package wait

import (
	"context"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("a cancelled sleep: %v", err)
	}
	if err := Sleep(ctx, 0); err != context.Canceled {
		t.Fatalf("a zero sleep on a cancelled context: %v", err)
	}
}
