"""Generated protobuf modules (scripts/gen_protos.sh); do not edit."""
