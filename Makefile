# Convenience wrappers around scripts/ (the README commands call the scripts).
.PHONY: all demo check clean
all:
	scripts/build
demo:
	scripts/demo
check:
	scripts/check
clean:
	rm -rf build
