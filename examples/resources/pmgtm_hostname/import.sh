# A hostname is imported by <zone>/<name>. The NS set, the nodes' addresses,
# the answer TTL and the serial are read back from DNS; agent URLs are not in
# DNS and come from the configuration on the next apply.
terraform import pmgtm_hostname.api example.com/api
