# A node is imported by <zone>/<name>. Its records must carry this
# configuration's ownership marker; agent_url is not stored in DNS and is
# taken from the configuration on the next apply.
terraform import pmgtm_node.lb1 example.com/lb1
