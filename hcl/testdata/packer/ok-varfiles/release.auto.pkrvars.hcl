release = "bookworm"
