package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/patchbay-dev/patchbay/client"
)

// Connecting an end user to an app that takes an API key (SerpApi here),
// in the three steps of the Python SDK's flow: ask what the user must
// provide, connect the user with it, and confirm the connection is active.
func Example_connectAPIKeyApp() {
	ctx := context.Background()
	c, err := client.New(patchbayURL, client.WithAPIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}

	// 1. The expected params for a user: the auth config to connect through
	// (found, or created on first use) and the fields to ask the user for.
	params, err := c.ExpectedParamsForUser(ctx, "serpapi", client.SchemeAPIKey, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("scheme:", params.AuthScheme)
	for _, f := range params.Fields {
		fmt.Printf("field: %s (%s), required: %t, secret: %t\n", f.Name, f.DisplayName, f.Required, f.IsSecret)
	}

	// 2. Initiate the connection for user-123 with the key the user entered.
	usersKey := "3b1f9c0d2e7a4b5c8d6e0f1a2b3c4d5e"
	req, err := c.InitiateConnection(ctx, "user-123", params.AuthConfigID, client.InitiateOptions{
		Scheme:      params.AuthScheme,
		Credentials: map[string]string{"generic_api_key": usersKey},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("initiated:", req.Status, "redirect:", req.RedirectURL != nil)

	// 3. Confirm it is active.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	account, err := req.WaitForConnection(ctx, time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("connected:", account.UserID, account.Toolkit.Slug, account.Status)

	// Output:
	// scheme: API_KEY
	// field: generic_api_key (API Key), required: true, secret: true
	// initiated: ACTIVE redirect: false
	// connected: user-123 serpapi ACTIVE
}

// A second connection of the same user through the same auth config is
// refused unless AllowMultiple is set.
func ExampleClient_InitiateConnection_multiple() {
	ctx := context.Background()
	c, err := client.New(patchbayURL, client.WithAPIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	params, err := c.ExpectedParamsForUser(ctx, "serpapi", client.SchemeAPIKey, "")
	if err != nil {
		log.Fatal(err)
	}
	opts := client.InitiateOptions{
		Scheme:      params.AuthScheme,
		Credentials: map[string]string{"generic_api_key": "0f6e5d4c3b2a19080706050403020100"},
	}
	for _, allow := range []bool{false, false, true} {
		opts.AllowMultiple = allow
		_, err := c.InitiateConnection(ctx, "user-456", params.AuthConfigID, opts)
		switch {
		case errors.Is(err, client.ErrMultipleConnections):
			fmt.Println("AllowMultiple", allow, "refused: the user is connected already")
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Println("AllowMultiple", allow, "connected")
		}
	}

	// Output:
	// AllowMultiple false connected
	// AllowMultiple false refused: the user is connected already
	// AllowMultiple true connected
}

// Error answers are *client.Error values; errors.Is tells their class.
func ExampleError() {
	ctx := context.Background()
	c, err := client.New(patchbayURL, client.WithAPIKey(apiKey))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Toolkit(ctx, "no-such-app")
	fmt.Println("not found:", errors.Is(err, client.ErrNotFound))
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Printf("%d %s: %s\n", e.StatusCode, e.Slug, e.Message)
	}

	_, err = c.Toolkits(ctx, client.ToolkitListParams{Limit: 5000})
	fmt.Println("invalid:", errors.Is(err, client.ErrInvalid))

	// Output:
	// not found: true
	// 404 not_found: Toolkit "no-such-app" not found.
	// invalid: true
}
