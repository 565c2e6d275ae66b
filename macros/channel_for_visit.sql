{#- The marketing channel of a visit from its UTM parameters and referrer: the channel the
    utm_channel_mapping seed gives (mapped_channel_code); unknown for UTM parameters the seed
    does not list; without UTM parameters, direct without a referrer, organic search or organic
    social by the referrer's site, referral otherwise. -#}
{% macro channel_for_visit(utm_source, referrer, mapped_channel_code) -%}
    case
        when {{ mapped_channel_code }} is not null then {{ mapped_channel_code }}
        when {{ utm_source }} is not null then 'unknown'
        when {{ referrer }} is null then 'direct'
        {%- for site in ['google.', 'bing.', 'duckduckgo.', 'yahoo.', 'ecosia.'] %}
        when lower({{ referrer }}) like '%{{ site }}%' then 'organic_search'
        {%- endfor %}
        {%- for site in ['facebook.', 'instagram.', 'pinterest.', 'tiktok.', 'youtube.'] %}
        when lower({{ referrer }}) like '%{{ site }}%' then 'organic_social'
        {%- endfor %}
        else 'referral'
    end
{%- endmacro %}
