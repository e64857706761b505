terraform {
  required_version = ">= 1.5"
  required_providers {
    pmgtm = {
      source = "pmgtm/pmgtm"
    }
  }
}
