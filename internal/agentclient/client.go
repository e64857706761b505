package agentclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// Client is an agent API client.
type Client struct {
	BaseURL string // e.g. https://198.51.100.10:8053
	Token   string
	HTTP    *http.Client // nil means http.DefaultClient
}

// ErrNotFound is returned when the agent does not hold the zone.
var ErrNotFound = errors.New("zone not found on the agent")

// APIError is an error answer from the agent.
type APIError struct {
	Status  int
	Field   string
	Message string
}

func (e *APIError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("agent answered %d: %s: %s", e.Status, e.Field, e.Message)
	}
	return fmt.Sprintf("agent answered %d: %s", e.Status, e.Message)
}

// PutZone stores a zone and returns it as the agent stored it, with its
// canonical JSON.
func (c *Client) PutZone(ctx context.Context, name string, body zone.Body) (zone.Zone, []byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return zone.Zone{}, nil, err
	}
	return c.zoneCall(ctx, http.MethodPut, name, data)
}

// GetZone returns the zone the agent serves, or ErrNotFound.
func (c *Client) GetZone(ctx context.Context, name string) (zone.Zone, []byte, error) {
	return c.zoneCall(ctx, http.MethodGet, name, nil)
}

// DeleteZone removes the zone; a zone that is already gone is not an error.
func (c *Client) DeleteZone(ctx context.Context, name string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/zones/"+url.PathEscape(name), nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Drain sets or clears the zone's drain switch.
func (c *Client) Drain(ctx context.Context, name string, drain bool) (zone.Zone, error) {
	data, err := c.do(ctx, http.MethodPut, "/v1/zones/"+url.PathEscape(name)+"/drain", []byte(fmt.Sprintf(`{"drain":%v}`, drain)))
	if err != nil {
		return zone.Zone{}, err
	}
	return zone.Parse(data)
}

// ListZones returns the names of the zones the agent holds.
func (c *Client) ListZones(ctx context.Context) ([]string, error) {
	data, err := c.do(ctx, http.MethodGet, "/v1/zones", nil)
	if err != nil {
		return nil, err
	}
	var list zone.ZoneList
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("agent returned an invalid zone list: %w", err)
	}
	names := make([]string, len(list.Zones))
	for i, z := range list.Zones {
		names[i] = z.Zone
	}
	return names, nil
}

// Health is the agent's health report.
type Health = zone.HealthReport

// Health returns the agent's health report.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	data, err := c.do(ctx, http.MethodGet, "/v1/health", nil)
	if err != nil {
		return h, err
	}
	return h, json.Unmarshal(data, &h)
}

func (c *Client) zoneCall(ctx context.Context, method, name string, body []byte) (zone.Zone, []byte, error) {
	data, err := c.do(ctx, method, "/v1/zones/"+url.PathEscape(name), body)
	if err != nil {
		return zone.Zone{}, nil, err
	}
	z, err := zone.Parse(data)
	if err != nil {
		return zone.Zone{}, nil, fmt.Errorf("agent returned an invalid zone: %w", err)
	}
	return z, data, nil
}

func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if method == http.MethodPut || method == http.MethodDelete {
		// Every write of the API is idempotent; saying so lets net/http
		// send it again on a fresh connection when the agent closed the
		// kept-alive one just as it was reused (after a long DNS check the
		// idle connection meets the agent's idle timeout).
		req.Header.Set("Idempotency-Key", method+" "+path)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return data, nil
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, ErrNotFound
	}
	var e struct {
		Error struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &e) != nil || e.Error.Message == "" {
		e.Error.Message = strings.TrimSpace(string(data))
	}
	return nil, &APIError{Status: resp.StatusCode, Field: e.Error.Field, Message: e.Error.Message}
}
